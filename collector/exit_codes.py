"""Exit statuses fixed by CONTRACT §3."""

OK = 0
COLLECTION_FAILED = 1  # the run finished, but a connector or an evidence kind failed to collect
USAGE = 2  # usage, configuration or mapping error: nothing was written
FAIL_ON = 3  # the --fail-on condition holds (wins over 1)
BUSY = 4  # another run holds the store and this one was asked not to wait
VERIFY_FAILED = 5  # verification failed: a seal, a signature, a pack file or the store integrity does not match
