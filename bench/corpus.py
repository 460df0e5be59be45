#!/usr/bin/env python3
"""Deterministic article corpus for wirefeed benchmarks (python3, stdlib only).

    bench/corpus.py --n N --seed S --out DIR [--hugo DIR] [--config FILE] [--port P]

Writes N articles under DIR/<category-slug>/:

- 70 % scraped news pages (.txt) in the layout of README.md ("Scraped news page"):
  title; `<Author> Published <Month> <D>, <YYYY> | <hh>:<mm> <AM|PM>`; a dateline
  `City, (APP - UrduPoint / Pakistan Point News - 14th May, 2024) first paragraph`;
  more paragraphs one per line; then the page chrome (`Recent Stories`, related
  titles, `More Stories From <Category>`, `-` / `<title><N> minutes ago` pairs);
- 20 % Markdown with YAML front matter (title, date, author, categories);
- 10 % JSON (title, author, published, category, body).

The format is fixed by the index (i % 10: 0-6 txt, 7-8 md, 9 json); everything
else comes from random.Random(f"{seed}:{i}"), so article i is the same for any N
and any machine. 8 categories, files of 2-8 KB, dates spread over 2023-2024
(minute resolution, local time in Asia/Karachi, UTC+05:00 all year).

--hugo DIR   also writes the same articles as a Hugo site (DIR/config.toml,
             DIR/content/<slug>/<name>.md, minimal layouts; RSS for home, every
             section, the `categories` taxonomy and every term via Hugo's built-in
             RSS template, 50 items each) and a matching wirefeed config
             DIR/wirefeed.toml (unless --config is given).
--config F   writes a wirefeed config for the corpus to F (8 categories,
             items = 50, base_url and listen http://127.0.0.1:PORT, state dir
             F's folder/state).

The module is also imported by bench/burst.py (latency burst writer).
"""

import argparse
import datetime as dt
import json
import os
import random
import sys

PKT = dt.timezone(dt.timedelta(hours=5))  # Asia/Karachi, no DST since 2009
TIMEZONE = "Asia/Karachi"

CATEGORIES = [
    ("world", "World"),
    ("pakistan", "Pakistan"),
    ("business", "Business"),
    ("sports", "Sports"),
    ("technology", "Technology"),
    ("entertainment", "Entertainment"),
    ("health", "Health"),
    ("education", "Education"),
]

MONTHS = ["January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December"]

CITIES = ["Islamabad", "Lahore", "Karachi", "Peshawar", "Quetta", "Multan",
          "Faisalabad", "Hyderabad", "Rawalpindi", "Sialkot", "Gilgit",
          "Muzaffarabad", "London", "Beijing", "Dubai", "Washington", "Geneva",
          "Tokyo", "Riyadh", "Kabul", "New Delhi", "Istanbul", "Paris", "Berlin"]

AUTHORS = ["Sara Qureshi", "Nadia Khan", "Hina Shah", "Saima Javed",
           "Hassan Mirza", "Imran Ali", "Ayesha Siddiqui", "Bilal Ahmed",
           "Usman Tariq", "Fatima Zaidi", "Kamran Yousaf", "Zainab Malik",
           "Omar Farooq", "Mehwish Raza", "Ali Haider", "Rabia Anwar"]

WORDS = (
    "the government said on tuesday that new plan would be approved by cabinet "
    "after talks with provincial officials minister announced funds for water "
    "storage projects across districts farmers welcomed decision but critics "
    "warned costs could rise markets closed higher banking shares rallied "
    "investors bought stocks ahead of dividend season exports grew in april "
    "textile sector reported strong orders from europe and china team won "
    "series against visitors captain praised young bowlers hockey squad left "
    "for tournament university launched research centre students will receive "
    "scholarships hospital opened new ward for children doctors urged citizens "
    "to take precautions during heatwave schools closed early police arrested "
    "suspects court adjourned hearing until next week senate passed bill on "
    "cybercrime amendments opposition walked out of session prime minister met "
    "delegation from abroad agreement signed to boost trade ties energy prices "
    "fell after oil imports eased film festival opened with premiere singer "
    "released new album drama serial broke ratings record health department "
    "started vaccination campaign dengue cases declined experts said climate "
    "change threatens crops rainfall expected in northern areas officials "
    "confirmed flights resumed airport traffic returned to normal technology "
    "startup raised capital mobile internet users increased digital payments "
    "grew rapidly board announced results of examinations teachers demanded "
    "salary increase province allocated budget for education reforms the "
    "spokesperson added that measures were being taken to ensure transparency "
    "while a committee will review progress every month according to statement "
    "issued here on wednesday"
).split()


def _ordinal(d):
    if 11 <= d % 100 <= 13:
        return f"{d}th"
    return f"{d}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(d % 10, 'th') }"


def _sentence(rng, lo=8, hi=22):
    w = rng.choices(WORDS, k=rng.randint(lo, hi))
    return " ".join(w).capitalize() + "."


def _paragraph(rng):
    return " ".join(_sentence(rng) for _ in range(rng.randint(2, 5)))


def _title(rng):
    w = rng.choices(WORDS, k=rng.randint(6, 10))
    return " ".join(x.capitalize() for x in w)


def _slugify(text, words=5):
    return "-".join(text.lower().split()[:words])


T0 = dt.datetime(2023, 1, 1, tzinfo=PKT)
SPAN_MINUTES = int((dt.datetime(2025, 1, 1, tzinfo=PKT) - T0).total_seconds() // 60)


def article(seed, i, when=None, token=None, fmt=None, category=None):
    """Article i as a dict (no serialization). `when` (aware datetime),
    `token` (appended to the title), `fmt` and `category` (index) override
    the generated ones (the burst writer uses them)."""
    rng = random.Random(f"{seed}:{i}")
    fmt = fmt or ("txt" if i % 10 < 7 else "md" if i % 10 < 9 else "json")
    cat = CATEGORIES[category if category is not None else rng.randrange(len(CATEGORIES))]
    if when is None:
        when = T0 + dt.timedelta(minutes=rng.randrange(SPAN_MINUTES))
    title = _title(rng)
    if token:
        title = f"{title} {token}"
    a = {
        "i": i,
        "fmt": fmt,
        "slug": cat[0],
        "category": cat[1],
        "title": title,
        "author": rng.choice(AUTHORS),
        "when": when.astimezone(PKT),
        "city": rng.choice(CITIES),
        "target": rng.randint(2048, 8192),
        "related": [_title(rng) for _ in range(rng.randint(3, 6))],
        "more": [(_title(rng), rng.randint(1, 59)) for _ in range(rng.randint(2, 4))],
        "rng": rng,
    }
    a["name"] = f"{a['when']:%Y-%m-%d}-{_slugify(title)}-{i:06d}"
    return a


def _byline(a):
    w = a["when"]
    hour12 = w.hour % 12 or 12
    ampm = "AM" if w.hour < 12 else "PM"
    return f"{a['author']} Published {MONTHS[w.month - 1]} {w.day}, {w.year} | {hour12:02d}:{w.minute:02d} {ampm}"


def _dateline(a):
    w = a["when"]
    return f"{a['city']}, (APP - UrduPoint / Pakistan Point News - {_ordinal(w.day)} {MONTHS[w.month - 1]}, {w.year})"


def _fill(a, fixed_len, render):
    """Paragraphs so that the rendered file is close to a['target'] bytes
    (always within 2048..8192)."""
    rng = a["rng"]
    paras = [_paragraph(rng)]
    while fixed_len + len(render(paras)) < a["target"] - 200:
        paras.append(_paragraph(rng))
    # Trim or pad the last paragraph word by word towards the target.
    while fixed_len + len(render(paras)) > min(a["target"], 8100) and len(paras[-1].split()) > 8:
        paras[-1] = " ".join(paras[-1].split()[:-3]) + "."
    while fixed_len + len(render(paras)) < max(a["target"] - 40, 2100):
        paras[-1] = paras[-1][:-1] + " " + rng.choice(WORDS) + "."
    return paras


def render_txt(a):
    head = f"{a['title']}\n{_byline(a)}\n{_dateline(a)} "
    chrome = ["Recent Stories", *a["related"], f"More Stories From {a['category']}"]
    for t, n in a["more"]:
        chrome += ["-", f"{t}{n} minutes ago"]
    tail = "\n".join(chrome) + "\n"
    paras = _fill(a, len(head) + len(tail), lambda ps: "\n".join(ps) + "\n")
    a["paragraphs"] = paras
    return head + "\n".join(paras) + "\n" + tail


def _md_body(paras):
    out = []
    for k, p in enumerate(paras):
        if k == 1:
            words = p.split()
            # Some inline Markdown: bold and a link, as real posts have.
            p = f"**{' '.join(words[:3])}** {' '.join(words[3:8])} [details](https://example.com/{words[0]}) {' '.join(words[8:])}"
        if k == 3:
            out.append("## " + " ".join(p.split()[:5]).rstrip(".").capitalize())
        out.append(p)
    return "\n\n".join(out) + "\n"


def render_md(a):
    fm = (
        "---\n"
        f"title: {json.dumps(a['title'])}\n"
        f"date: {a['when']:%Y-%m-%dT%H:%M:%S}\n"
        f"author: {json.dumps(a['author'])}\n"
        f"categories: [{a['category']}]\n"
        "---\n"
    )
    paras = _fill(a, len(fm), _md_body)
    a["paragraphs"] = paras
    return fm + _md_body(paras)


def _json_doc(a, paras):
    return json.dumps({
        "title": a["title"],
        "author": a["author"],
        "published": f"{a['when']:%Y-%m-%dT%H:%M:%S}",
        "category": a["category"],
        "body": "\n".join(f"<p>{p}</p>" for p in paras),
    }, indent=2) + "\n"


def render_json(a):
    probe = _json_doc(a, [])
    paras = _fill(a, len(probe), lambda ps: "\n".join(f"<p>{p}</p>" for p in ps))
    a["paragraphs"] = paras
    return _json_doc(a, paras)


RENDER = {"txt": render_txt, "md": render_md, "json": render_json}


def render(a):
    """(relative path, text) of the article in its own format."""
    return f"{a['slug']}/{a['name']}.{a['fmt']}", RENDER[a["fmt"]](a)


def render_hugo(a):
    """(relative path under content/, text) of the same article for Hugo.
    Call after render(a) (it reuses the paragraphs)."""
    fm = (
        "---\n"
        f"title: {json.dumps(a['title'])}\n"
        f"date: {a['when'].isoformat()}\n"
        f"author: {json.dumps(a['author'])}\n"
        f"categories: [{json.dumps(a['category'])}]\n"
        "---\n"
    )
    return f"{a['slug']}/{a['name']}.md", fm + "\n\n".join(a["paragraphs"]) + "\n"


def wirefeed_config(articles_dir, port, state_dir):
    lines = [
        "# Written by bench/corpus.py for wirefeed benchmarks.",
        "[site]",
        'title = "wirefeed bench"',
        f'base_url = "http://127.0.0.1:{port}"',
        'description = "Benchmark corpus"',
        f'timezone = "{TIMEZONE}"',
        "",
        "[articles]",
        f"dir = {json.dumps(os.path.abspath(articles_dir))}",
        "",
        "[feeds]",
        "items = 50",
        "",
        "[server]",
        f'listen = "127.0.0.1:{port}"',
        "",
        "[state]",
        f"dir = {json.dumps(os.path.abspath(state_dir))}",
    ]
    for slug, title in CATEGORIES:
        lines += ["", "[[categories]]", f'slug = "{slug}"', f'title = "{title}"']
    return "\n".join(lines) + "\n"


HUGO_CONFIG = """\
# Written by bench/corpus.py: the benchmark corpus as a Hugo site.
baseURL = "http://127.0.0.1:1313/"
title = "wirefeed bench"
languageCode = "en"
timeZone = "Asia/Karachi"
disableKinds = ["sitemap", "robotsTXT", "404"]
rssLimit = 50

[taxonomies]
  category = "categories"

[outputs]
  home = ["HTML", "RSS"]
  section = ["HTML", "RSS"]
  taxonomy = ["HTML", "RSS"]
  term = ["HTML", "RSS"]
  page = ["HTML"]
"""

# Minimal HTML layouts (RSS uses Hugo's built-in template): one page per
# article, like `wirefeed build`'s articles/<id>.html, and small list pages.
HUGO_LAYOUTS = {
    "_default/baseof.html": (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>{{ .Title }}</title>"
        '{{ with .OutputFormats.Get "rss" }}<link rel="alternate" type="application/rss+xml" href="{{ .Permalink }}">{{ end }}'
        "</head><body>{{ block \"main\" . }}{{ end }}</body></html>\n"
    ),
    "_default/single.html": (
        '{{ define "main" }}<article><h1>{{ .Title }}</h1>'
        "<p>{{ .Params.author }} · {{ .Date.Format \"Jan 2, 2006 15:04\" }}</p>"
        "{{ .Content }}</article>{{ end }}\n"
    ),
    "_default/list.html": (
        '{{ define "main" }}<h1>{{ .Title }}</h1><ul>'
        '{{ range first 50 .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}'
        "</ul>{{ end }}\n"
    ),
}


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, required=True, help="number of articles")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True, help="articles directory to write")
    p.add_argument("--hugo", help="also write a Hugo site of the same articles here")
    p.add_argument("--config", help="write a wirefeed config for the corpus to this file")
    p.add_argument("--port", type=int, default=8181, help="port in the written wirefeed config")
    args = p.parse_args(argv)

    total = 0
    for i in range(args.n):
        a = article(args.seed, i)
        rel, text = render(a)
        write(os.path.join(args.out, rel), text)
        total += len(text.encode())
        if args.hugo:
            hrel, htext = render_hugo(a)
            write(os.path.join(args.hugo, "content", hrel), htext)
    config = args.config
    if args.hugo:
        write(os.path.join(args.hugo, "config.toml"), HUGO_CONFIG)
        for rel, text in HUGO_LAYOUTS.items():
            write(os.path.join(args.hugo, "layouts", rel), text)
        for slug, title in CATEGORIES:
            write(os.path.join(args.hugo, "content", slug, "_index.md"),
                  f"---\ntitle: {json.dumps(title)}\n---\n")
        config = config or os.path.join(args.hugo, "wirefeed.toml")
    if config:
        state = os.path.join(os.path.dirname(os.path.abspath(config)), "state")
        write(config, wirefeed_config(args.out, args.port, state))
    print(f"wrote {args.n} articles ({total / 1e6:.1f} MB) to {args.out}"
          + (f", Hugo site to {args.hugo}" if args.hugo else "")
          + (f", config {config}" if config else ""), file=sys.stderr)


if __name__ == "__main__":
    main()
