-- Token issue by password: POST <url> (= .../v3/auth/tokens), user by name in the domain
-- DOMAIN_ID, scoped to the project PROJECT_ID. Every request is a bcrypt verify on the server.
-- env: DOMAIN_ID, BENCH_USER, BENCH_PASS, PROJECT_ID
dofile(os.getenv("WRK_DIR") .. "/report.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.body = string.format(
  '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"%s",' ..
  '"domain":{"id":"%s"},"password":"%s"}}},"scope":{"project":{"id":"%s"}}}}',
  os.getenv("BENCH_USER"), os.getenv("DOMAIN_ID"), os.getenv("BENCH_PASS"),
  os.getenv("PROJECT_ID"))
