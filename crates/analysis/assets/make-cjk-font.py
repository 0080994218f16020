#!/usr/bin/env python3
"""Regenerates assets/SofleetCJK-Regular.otf, the charts' CJK fallback font.

It is a subset of Noto Sans CJK SC Regular (SIL Open Font License 1.1, see
SofleetCJK-LICENSE.txt), renamed "Sofleet CJK" as the licence asks of modified
versions. It keeps the characters people's names are written with:

* GB 2312 (simplified Chinese, levels 1 and 2),
* Big5 symbols and level 1 (common traditional Chinese),
* JIS X 0208 (Japanese kanji, hiragana, katakana),
* KS X 1001 (the 2,350 common Hangul syllables and its hanja),
* CJK punctuation, kana and jamo blocks, half- and full-width forms.

Names outside this set render with a font given at run time
(`sofleet report --chart-font FILE`) or show in the report's missing-glyph
warning.

Usage (needs fontTools: `pip install fonttools`; the source font is in
Debian's fonts-noto-cjk package):

    python3 make-cjk-font.py /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
"""

import os
import sys

from fontTools import subset
from fontTools.ttLib import TTCollection

SC_INDEX_NAME = "Noto Sans CJK SC"
FAMILY = "Sofleet CJK"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "SofleetCJK-Regular.otf")


def codec_chars(codec, lead, trail, last=None):
    chars = set()
    for b1 in range(lead[0], lead[1] + 1):
        for b2 in range(trail[0], trail[1] + 1):
            if last is not None and (b1, b2) > last:
                continue
            try:
                chars.update(ord(c) for c in bytes([b1, b2]).decode(codec))
            except UnicodeDecodeError:
                pass
    return chars


def wanted_codepoints():
    chars = set()
    chars |= codec_chars("gb2312", (0xA1, 0xF7), (0xA1, 0xFE))
    chars |= codec_chars("big5", (0xA1, 0xC6), (0x40, 0xFE), last=(0xC6, 0x7E))
    chars |= codec_chars("euc_jp", (0xA1, 0xFE), (0xA1, 0xFE))
    chars |= codec_chars("euc_kr", (0xA1, 0xFE), (0xA1, 0xFE))
    for low, high in [(0x3000, 0x30FF), (0x3100, 0x312F), (0x3130, 0x318F),
                      (0x31F0, 0x31FF), (0xFF00, 0xFFEF)]:
        chars.update(range(low, high + 1))
    # Latin, Greek and Cyrillic come from DejaVu Sans, the primary font.
    return sorted(c for c in chars if c >= 0x2E80)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    collection = TTCollection(sys.argv[1])
    index = next(
        (i for i, f in enumerate(collection.fonts) if f["name"].getDebugName(1) == SC_INDEX_NAME),
        None,
    )
    if index is None:
        sys.exit(f"{sys.argv[1]} has no {SC_INDEX_NAME!r} font")
    options = subset.Options()
    options.font_number = index
    options.layout_features = []
    options.hinting = False
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6]
    font = subset.load_font(sys.argv[1], options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted_codepoints())
    subsetter.subset(font)
    names = font["name"]
    for record in names.names:
        if record.nameID in (1, 4):
            record.string = FAMILY
        elif record.nameID == 3:
            record.string = "SofleetCJK-Regular (subset of NotoSansCJKsc-Regular 2.004)"
        elif record.nameID == 6:
            record.string = "SofleetCJK-Regular"
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = ["SofleetCJK-Regular"]
        top = cff.topDictIndex[0]
        top.FullName = FAMILY
        top.FamilyName = FAMILY
    subset.save_font(font, OUT, options)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes, {len(font.getBestCmap())} characters)")


if __name__ == "__main__":
    main()
