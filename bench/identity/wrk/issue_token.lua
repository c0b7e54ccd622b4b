-- Token issue by token method: POST <url> (= .../v3/auth/tokens) trading the token SOURCE_TOKEN
-- (the bench user's unscoped token) for one scoped to the project PROJECT_ID. No password hash.
-- env: SOURCE_TOKEN, PROJECT_ID
dofile(os.getenv("WRK_DIR") .. "/report.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.body = string.format(
  '{"auth":{"identity":{"methods":["token"],"token":{"id":"%s"}},' ..
  '"scope":{"project":{"id":"%s"}}}}',
  os.getenv("SOURCE_TOKEN"), os.getenv("PROJECT_ID"))
