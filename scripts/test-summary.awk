# Reads what `make test` captured from `cargo test` and ends it with one line,
# `N passed, N failed`, summed over every test binary (unit, integration, doc
# tests, every workspace member). Exits 1 on any failure.
#
#   awk -v rc=CARGO_EXIT_CODE -v lint=1_IF_MAKE_LINT_FAILED \
#       -v chromium=0_IF_NOT_INSTALLED -v ci="$CI" -f test-summary.awk LOG
#
# A binary that starts but prints no `test result:` line (it crashed, or was
# killed) counts as one failed test, named on a line of its own.

/^ +(Running|Doc-tests) / {
	if (running != "") crashed[++ncrashed] = running
	running = $0
	sub(/^ +/, "", running)
}

/^test result: / {
	running = ""
	for (i = 2; i <= NF; i++) {
		if ($i ~ /^passed/) passed += $(i - 1)
		if ($i ~ /^failed/) failed += $(i - 1)
		if ($i ~ /^ignored/) ignored += $(i - 1)
	}
}

END {
	if (running != "") crashed[++ncrashed] = running
	for (i = 1; i <= ncrashed; i++)
		print "no test result (crashed or killed): " crashed[i]
	failed += ncrashed
	if (lint) print "make lint failed (cargo fmt --check or clippy; see above)"
	if (rc != 0 && failed == 0)
		print "cargo test failed (exit code " rc ") before its tests ran; see above"
	# In CI (CI set, not empty, not 0 or false: testkit's in_ci) they fail instead.
	in_ci = ci != "" && ci != "0" && tolower(ci) != "false"
	if (chromium == "0" && !in_ci)
		print "chromium not found: the browser tests passed without running (make test-browser installs it)"
	if (ignored > 0) print ignored " ignored"
	printf "%d passed, %d failed\n", passed, failed
	exit (failed > 0 || rc != 0 || lint) ? 1 : 0
}
