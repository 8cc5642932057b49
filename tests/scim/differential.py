"""Prints, for each filter of the corpus, whether Python's scim2-filter-parser
accepts it: one JSON object per line. Used by the differential test."""
import json
import sys

from scim2_filter_parser.lexer import SCIMLexer
from scim2_filter_parser.parser import SCIMParser


def accepts(text):
    try:
        SCIMParser().parse(SCIMLexer().tokenize(text))
        return True
    except Exception:  # the parser signals rejection with several types
        return False


for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    _, _, text = line.split("\t", 2)
    print(json.dumps({"filter": text, "accepted": accepts(text)}))
