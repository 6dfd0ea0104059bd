"""Building one billing period's ledger from staging, in exact decimals."""
