"""Reads an OpenMetrics exposition on stdin and parses it with prometheus_client's
OpenMetrics parser. Exit 0 and "valid: N families" when it parses, exit 1 and
"invalid: <the parser's reason>" when it does not."""
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families

text = sys.stdin.read()
try:
    families = list(text_string_to_metric_families(text))
except Exception as error:  # the parser raises ValueError (and others) for invalid input
    print(f"invalid: {error}")
    sys.exit(1)
print(f"valid: {len(families)} families")
