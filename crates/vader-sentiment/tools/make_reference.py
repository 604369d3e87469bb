#!/usr/bin/env python3
"""Writes the parity files that the Rust tests compare against.

Run with the reference package pinned, from the crate folder:
    python3 -m venv /tmp/vader-ref && /tmp/vader-ref/bin/pip install vaderSentiment==3.3.2
    /tmp/vader-ref/bin/python tools/make_reference.py [path/to/shared/data/vader]

Outputs (tab-separated, text JSON-encoded so tabs and newlines survive):
  tests/data/reference.tsv       compound, pos, neu, neg, text  for the curated and generated texts
  tests/data/gold-reference.tsv  file, id, compound, pos, neu, neg  for the VADER paper's gold sentences
The header names the CPython version: exact-cancellation cases differ between 3.11 and 3.12.
"""
import json
import os
import platform
import random
import sys

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
import vaderSentiment

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "data")

CURATED = [
    # social text
    "@acmeair lost my bag AGAIN. 3 hours on hold and nobody answers!!! never flying with you again",
    "Honestly the new app update is pretty good, checkout was fast and the staff were lovely :)",
    "is the acme air website down for anyone else?? can't check in",
    "THANK YOU @acmeair for the upgrade, best flight ever",
    "Flight delayed again. Great. Just great. #acmeair",
    "worst customer service I have ever experienced, absolutely horrible and rude agents",
    "The service was okay, nothing special. Would probably book again if the price is right.",
    "lol this is the shit", "that movie was the bomb", "he is a bad ass", "what a badass!",
    "waiting at the bus stop", "yeah right, like that will happen", "the kiss of death for the brand",
    "a cake to die for", "my beating heart", "the bombing was horrible",
    # emoji alone and in context
    "😡", "😍", "❤", "💔", "🙂🙂🙂", "👍", "love it 😍😍", "so angry😡😡 at this", "ok 👍 thanks",
    "great job!❤️", "👨‍👩‍👧 family trip ruined", "🏳️‍🌈 pride month", "no 😀", "not 😡",
    # caps
    "GREAT", "This is GREAT", "THIS IS GREAT", "This is VERY good", "this is EXTREMELY bad",
    "I HATE this", ":) :D :P :p XD", "... !!! ???", "GOOD :)", "Good :)",
    # negations and "no"
    "not good", "isn't good", "never good", "never so good", "never this good", "without doubt good",
    "without a doubt, excellent idea", "not such a badass after all", "no problem", "no problems at all",
    "no good", "no", "no no no", "no or bad", "no, not bad", "there is no love here", "no nor good",
    "it was not the worst", "nothing good", "nope, terrible", "I can't say it's good", "uh-uh bad",
    "rarely good", "seldom great", "despite the great food",
    # boosters and dampeners
    "very good", "very very good", "kind of good", "sort of bad", "kinda nice", "just enough good",
    "the food was only kind of good", "extremely horrible", "slightly annoying", "barely acceptable",
    "the reason is good", "also good", "a person of good", "unless good", "so good", "SO good",
    "least good", "at least good", "very least good", "the least compelling", "at least compelling",
    # but
    "good but bad", "bad but good", "good, but the ending was bad", "but", "good good but good good",
    "great but great but great", "love hate but love hate", "I like it but I don't love it",
    # punctuation
    "good!", "good!!", "good!!!!!!!!", "bad?", "bad??", "bad???", "bad????", "good?!?!", "Hello there!",
    "!!!", "???", "?", "", " ", "\t\n", "a", "I", ":(", ":-(", ":'(",
    # one-character tokens in windows
    "a good day", "I am not a good person", "not a b good", "x y z bad", "so a good",
    # unicode
    "Ça ne marche pas, terrible", "İstanbul was GREAT", "ΣΊΣΥΦΟΣ bad", "ﬁne good", "good\u00a0day",
    "good\u001fday", "good\u200bday", "bad\u3000day", "\u202egood\u202c", "Straße ist gut, good",
]

SOUP_WORDS = (
    "good bad great horrible love hate nice terrible okay fine happy sad angry awesome worst best "
    "not no never without doubt so this least at very kind of sort just enough but nor or "
    "the shit bomb bus stop yeah right kiss death to die for beating heart bad ass "
    "extremely barely slightly really totally kinda sorta isn't don't can't nothing none "
    "GOOD BAD GREAT NOT VERY SO BUT NO LOVE HATE"
).split()
SOUP_EXTRAS = [":)", ":(", ":D", ":P", "<3", "lol", "!!", "??", "!", "?", "😡", "😍", "❤", "👍",
               "a", "I", "x", "'good'", "(bad)", "...", "--", "#fail", "@acme"]


def soup(rng):
    n = rng.randint(1, 14)
    words = []
    for _ in range(n):
        w = rng.choice(SOUP_WORDS) if rng.random() < 0.8 else rng.choice(SOUP_EXTRAS)
        if rng.random() < 0.1:
            w = w.upper()
        if rng.random() < 0.1:
            w += rng.choice([",", ".", "!", "?", "!!", "?!"])
        words.append(w)
    return " ".join(words)


def main():
    analyzer = SentimentIntensityAnalyzer()
    os.makedirs(OUT, exist_ok=True)
    header = "# vaderSentiment==3.3.2 on CPython %s\n" % platform.python_version()
    rng = random.Random(20261123)
    texts = CURATED + [soup(rng) for _ in range(4000)]
    with open(os.path.join(OUT, "reference.tsv"), "w", encoding="utf-8") as out:
        out.write(header)
        out.write("# compound\tpos\tneu\tneg\ttext (JSON string)\n")
        for text in texts:
            s = analyzer.polarity_scores(text)
            out.write("%r\t%r\t%r\t%r\t%s\n" % (s["compound"], s["pos"], s["neu"], s["neg"],
                                                json.dumps(text, ensure_ascii=False)))
    gold_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "..", "shared", "data", "vader")
    if os.path.isdir(gold_dir):
        with open(os.path.join(OUT, "gold-reference.tsv"), "w", encoding="utf-8") as out:
            out.write(header)
            out.write("# file\tid\tcompound\tpos\tneu\tneg\n")
            for name in sorted(os.listdir(gold_dir)):
                if not name.endswith("_GroundTruth.txt"):
                    continue
                with open(os.path.join(gold_dir, name), encoding="utf-8") as f:
                    for line in f:
                        sid, _rating, text = line.rstrip("\n").split("\t", 2)
                        s = analyzer.polarity_scores(text)
                        out.write("%s\t%s\t%r\t%r\t%r\t%r\n" % (name, sid, s["compound"], s["pos"], s["neu"], s["neg"]))
    else:
        print("no gold folder at %s; gold-reference.tsv left as it is" % gold_dir, file=sys.stderr)


if __name__ == "__main__":
    main()
