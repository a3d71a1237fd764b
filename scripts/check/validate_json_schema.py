"""Validates a JSON document against a JSON Schema (Draft 2020-12) with the `jsonschema` package.

Usage: validate_json_schema.py SCHEMA DOCUMENT
Exit 0 when valid; 1 with one line per error (JSON path: message) when not; 2 on bad usage.
"""
import json
import sys

import jsonschema


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        schema = json.load(f)
    with open(sys.argv[2]) as f:
        document = json.load(f)
    validator = jsonschema.Draft202012Validator(schema)
    validator.check_schema(schema)
    errors = sorted(validator.iter_errors(document), key=lambda e: e.json_path)
    for error in errors:
        print(f"{error.json_path}: {error.message[:300]}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
