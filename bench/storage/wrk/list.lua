-- GET of the request URL with the token (a container listing).
dofile(os.getenv("WRK_DIR") .. "/report.lua")
function init(args) hdrs = { ["X-Auth-Token"] = os.getenv("AUTH_TOKEN") } end
function request() return wrk.format("GET", nil, hdrs) end
