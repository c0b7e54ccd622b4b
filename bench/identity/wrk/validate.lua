-- Token validation: GET <url> (= .../v3/auth/tokens) with the caller's token in X-Auth-Token
-- (admin) and the token being checked in X-Subject-Token (the bench user's project token).
-- env: AUTH_TOKEN, SUBJECT_TOKEN
dofile(os.getenv("WRK_DIR") .. "/report.lua")
wrk.method = "GET"
wrk.headers["Accept"] = "application/json"
wrk.headers["X-Auth-Token"] = os.getenv("AUTH_TOKEN")
wrk.headers["X-Subject-Token"] = os.getenv("SUBJECT_TOKEN")
