"""Validates a JSON document against a JSON Schema (Draft 2020-12) with the `jsonschema` package.

Usage: validate_json_schema.py SCHEMA DOCUMENT...
Exit 0 when every document is valid; 1 with one line per error (file: JSON path: message) when
not; 2 on bad usage.
"""
import json
import sys

import jsonschema


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    failed = False
    for path in sys.argv[2:]:
        with open(path) as f:
            document = json.load(f)
        for error in sorted(validator.iter_errors(document), key=lambda e: e.json_path):
            print(f"{path}: {error.json_path}: {error.message[:300]}")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
