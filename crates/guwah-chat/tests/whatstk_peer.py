"""WhatsApp chats in every header format PyPI `whatstk` supports, with the
true time of every message (whatstk generates the times, then writes them).

usage: python3 whatstk_peer.py OUTDIR

For each scenario (size, seed, last message time) one chat is generated and
written once per header format in whatstk's support list
(`get_supported_hformats_as_list`: day-, month- and year-first, 12- and
24-hour, with and without seconds and brackets) as OUTDIR/<n>.txt. Then
OUTDIR/manifest.json holds per scenario every message as [time, user,
text], the time being whatstk's own timestamp to the second as
YYYY-MM-DDTHH:MM:SS, and per file its format, scenario and whether the
format writes seconds (without %S the truth is that time with :00).
"""
import json
import os
import sys
from datetime import datetime

import whatstk
from whatstk.whatsapp.generation import ChatGenerator
from whatstk.whatsapp.hformat import get_supported_hformats_as_list

# Spans of a year, of ten weeks and of a few weeks around New Year 2012 (a
# year of 12 or less: every number of a year-first date could be a month).
SCENARIOS = [
    (2000, 100, datetime(2020, 1, 1, 0, 0)),
    (300, 7, datetime(2024, 3, 1, 12, 0)),
    (150, 3, datetime(2012, 1, 20, 9, 30)),
]

out = sys.argv[1]
formats = get_supported_hformats_as_list()
manifest = {"whatstk": whatstk.__version__, "scenarios": [], "chats": []}
n = 0
for size, seed, last in SCENARIOS:
    chat = ChatGenerator(size=size, seed=seed).generate(last_timestamp=last)
    scenario = len(manifest["scenarios"])
    manifest["scenarios"].append(
        [[d.strftime("%Y-%m-%dT%H:%M:%S"), u, t] for d, u, t in chat.df.values.tolist()]
    )
    for hformat in formats:
        name = f"{n}.txt"
        chat.to_txt(os.path.join(out, name), hformat=hformat)
        manifest["chats"].append(
            {"file": name, "format": hformat, "scenario": scenario, "seconds": "%S" in hformat}
        )
        n += 1
with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
    json.dump(manifest, f, ensure_ascii=False)
print(f"{n} chats, {len(formats)} formats, whatstk {whatstk.__version__}")
