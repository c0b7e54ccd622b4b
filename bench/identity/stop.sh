#!/bin/bash
# Stop what the benchmark started, by its pid files only: stop.sh [keystone|nginx|onestack|all]
. "$(dirname "$0")/lib.sh"
what=${1:-all}
if [ "$what" = keystone ] || [ "$what" = all ]; then stop_pidfile "$RUN_DIR/keystone.pid" INT; fi
if [ "$what" = nginx ] || [ "$what" = all ]; then stop_pidfile "$RUN_DIR/nginx.pid" QUIT; fi
if [ "$what" = onestack ] || [ "$what" = all ]; then stop_pidfile "$RUN_DIR/onestack.pid" TERM; fi
exit 0
