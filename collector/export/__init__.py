"""Ways out of Annexa: the auditor pack (OSCAL and CISO Assistant to follow)."""
