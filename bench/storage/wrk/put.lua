-- PUT of OBJ_SIZE-byte objects (new names each time) into CONT_PATH ("/v1/AUTH_x/c").
-- Names: <PREFIX><start time>-<thread>-<n>, so runs never overwrite each other.
dofile(os.getenv("WRK_DIR") .. "/report.lua")
local counter = 0
function setup(thread) counter = counter + 1; thread:set("tid", counter - 1) end
function init(args)
  body = string.rep("x", tonumber(os.getenv("OBJ_SIZE") or "4096"))
  cont = os.getenv("CONT_PATH")
  prefix = (os.getenv("PREFIX") or "o") .. os.time()
  n = 0
  hdrs = { ["X-Auth-Token"] = os.getenv("AUTH_TOKEN"), ["Content-Type"] = "application/octet-stream" }
end
function request()
  n = n + 1
  return wrk.format("PUT", string.format("%s/%s-%d-%d", cont, prefix, tid, n), hdrs, body)
end
