"""Count code lines of Python files: not blank, not comments, not docstrings.

Usage::

    python scripts/count_code_lines.py probssl/_em.py probssl/_events.py ...
"""

import ast
import io
import sys
import tokenize


def code_lines(path):
    """Line numbers of ``path`` that hold code (docstrings and comments out)."""
    source = open(path, encoding="utf-8").read()
    docstring_lines = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                             ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(
                    getattr(body[0], "value", None), ast.Constant) and \
                    isinstance(body[0].value.value, str):
                docstring_lines.update(
                    range(body[0].lineno, body[0].end_lineno + 1))
    lines = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE,
                        tokenize.INDENT, tokenize.DEDENT,
                        tokenize.ENDMARKER):
            continue
        lines.update(range(tok.start[0], tok.end[0] + 1))
    return lines - docstring_lines


def main(paths):
    total = 0
    for path in paths:
        n = len(code_lines(path))
        total += n
        print(f"{n:6d}  {path}")
    print(f"{total:6d}  total")


if __name__ == "__main__":
    main(sys.argv[1:])
