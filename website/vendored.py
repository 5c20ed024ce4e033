"""The vendored libraries as the pages load them: classic scripts (Chromium runs no module
script from ``file://``), made at publish time from the registry's files, unchanged but
for their ``import``/``export`` lines, each of which must be one of the forms expected
(anything else stops the publication: a new release is a deliberate step).

- ``@noble/ed25519`` 2.3.0 (``vendor/noble-ed25519``): Ed25519 where WebCrypto has none.
- ``@noble/hashes`` 2.4.0 (``vendor/noble-hashes``, four files of its ``sha2``): SHA-256
  and SHA-512 where the page has no WebCrypto at all (``crypto.subtle`` exists only in
  secure contexts: a site served over plain HTTP from another host than the reader's).
"""

from __future__ import annotations

import re
from importlib import resources

#: The one line of the vendored @noble/ed25519 2.3.0 that makes it a module.
NOBLE_EXPORT = ("export { ed25519_CURVE as CURVE, etc, Point as ExtendedPoint, getPublicKey, "
                "getPublicKeyAsync, Point, sign, signAsync, utils, verify, verifyAsync, };")

#: The files of @noble/hashes that SHA-256 and SHA-512 need, dependencies first.
HASHES_FILES = ("utils", "_u64", "_md", "sha2")
_IMPORT = re.compile(r'import \{ ([\w, ]+) \} from "\./(\w+)\.js";')
_IMPORT_ALL = re.compile(r'import \* as (\w+) from "\./(\w+)\.js";')
_EXPORT_LIST = re.compile(r"export \{ ([\w, ]+) \};")
_EXPORT_DECL = re.compile(r"export (?:async )?(?:function|const|class) (\w+)")


def _text(*parts: str) -> str:
    return resources.files("website").joinpath("vendor", *parts).read_text(encoding="utf-8")


def noble_script() -> str:
    """The vendored @noble/ed25519 as a classic script: wrapped in a function, its export
    line replaced by one global offering ``verifyAsync`` (SHA-512 from WebCrypto) and
    ``verifySync`` (SHA-512 from @noble/hashes, for a page without WebCrypto)."""
    source = _text("noble-ed25519", "index.js")
    if source.rstrip().splitlines()[-1] != NOBLE_EXPORT:
        raise RuntimeError("the vendored @noble/ed25519 is not the 2.3.0 file it should be")
    body = source.rstrip()[: -len(NOBLE_EXPORT)]
    return ("/* @noble/ed25519 2.3.0 (MIT, Paul Miller; see LICENSE-noble-ed25519.txt), "
            "unchanged but for its export line. */\n(() => {\n\"use strict\";\n" + body
            + "const verifySync = (s, m, p) => {\n"
            "  if (!etc.sha512Sync) {\n"
            "    const hashes = globalThis.nobleHashes;\n"
            "    if (!hashes) throw new Error(\"no SHA-512: @noble/hashes is missing\");\n"
            "    etc.sha512Sync = (...parts) => hashes.sha512(etc.concatBytes(...parts));\n"
            "  }\n"
            "  return verify(s, m, p);\n"
            "};\n"
            "globalThis.nobleEd25519 = Object.freeze({ verifyAsync, verifySync });\n})();\n")


def _module(name: str) -> str:
    """One file of @noble/hashes as a function returning its exports."""
    names: list[str] = []
    out = []
    for line in _text("noble-hashes", f"{name}.js").splitlines():
        if line.startswith("import "):
            found = _IMPORT.fullmatch(line)
            every = _IMPORT_ALL.fullmatch(line)
            if found:
                line = f"const {{ {found.group(1)} }} = M[{found.group(2)!r}];"
            elif every:
                line = f"const {every.group(1)} = M[{every.group(2)!r}];"
            else:
                raise RuntimeError(f"@noble/hashes {name}.js: an import of an unexpected form")
        elif line.startswith("export "):
            listed = _EXPORT_LIST.fullmatch(line)
            declared = _EXPORT_DECL.match(line)
            if listed:
                names += [n.strip() for n in listed.group(1).split(",")]
                continue
            if not declared:
                raise RuntimeError(f"@noble/hashes {name}.js: an export of an unexpected form")
            names.append(declared.group(1))
            line = line[len("export "):]
        out.append(line)
    body = "\n".join(out)
    return (f"M[{name!r}] = (() => {{\n\"use strict\";\n{body}\n"
            f"return {{ {', '.join(names)} }};\n}})();\n")


def hashes_script() -> str:
    """The vendored @noble/hashes (SHA-2) as a classic script offering
    ``globalThis.nobleHashes.sha256`` and ``.sha512`` (bytes in, bytes out)."""
    modules = "".join(_module(name) for name in HASHES_FILES)
    return ("/* @noble/hashes 2.4.0 (MIT, Paul Miller; see LICENSE-noble-hashes.txt): "
            "utils.js, _u64.js, _md.js and sha2.js, unchanged but for their import and "
            "export lines; used only where the page has no WebCrypto. */\n(() => {\n"
            "const M = {};\n" + modules
            + "globalThis.nobleHashes = Object.freeze({ sha256: M['sha2'].sha256, "
            "sha512: M['sha2'].sha512 });\n})();\n")
