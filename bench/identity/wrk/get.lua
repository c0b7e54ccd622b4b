-- Plain GET of the URL given to wrk (the nginx floor).
dofile(os.getenv("WRK_DIR") .. "/report.lua")
