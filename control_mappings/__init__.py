"""The declarative check files and the Annex A catalogue, shipped inside the package."""

from pathlib import Path

MAPPINGS_DIR = Path(__file__).resolve().parent
CATALOGUE_FILE = MAPPINGS_DIR / "annex_a_2022.yaml"
CLAUSES_FILE = MAPPINGS_DIR / "isms_clauses_2022.yaml"
CATALOGUES = frozenset({CATALOGUE_FILE, CLAUSES_FILE})  # not check files
