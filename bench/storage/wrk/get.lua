-- GET of random objects obj-%06d (0 .. NOBJ-1) from CONT_PATH.
dofile(os.getenv("WRK_DIR") .. "/report.lua")
local counter = 0
function setup(thread) counter = counter + 1; thread:set("tid", counter) end
function init(args)
  math.randomseed(1234 + tid)
  cont = os.getenv("CONT_PATH")
  nobj = tonumber(os.getenv("NOBJ"))
  hdrs = { ["X-Auth-Token"] = os.getenv("AUTH_TOKEN") }
end
function request()
  return wrk.format("GET", string.format("%s/obj-%06d", cont, math.random(0, nobj - 1)), hdrs)
end
