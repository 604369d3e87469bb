#!/usr/bin/env python3
"""Writes N realistic social-media texts, one JSON string per line, from a fixed seed.

Mixes lengths (a few words to a long rant), emoji, ALL CAPS, negations,
boosters, "but", punctuation floods, handles, hashtags and links, so that
every VADER rule is exercised at roughly the rate real mentions trigger it.
usage: gen_texts.py N SEED > texts.jsonl
"""
import json
import random
import sys

OPENERS = ["", "", "", "honestly ", "lol ", "ugh ", "wow ", "PSA: ", "update: ", "so ", "@acmeair ", "@globexbank "]
CLAUSES = [
    "lost my bag again", "the flight was delayed three hours", "customer service never answered",
    "the app keeps crashing", "the crew was amazing", "great seats and friendly staff",
    "not bad at all", "not great, not terrible", "this is the worst airline ever", "I love this bank",
    "they charged me twice", "refund took forever", "kind of disappointed", "really really happy with it",
    "totally useless support", "no problem at all", "the food was barely edible", "best experience in years",
    "nothing works", "it was okay I guess", "would not recommend", "absolutely fantastic service",
    "waited on hold for an hour", "they fixed it quickly", "the website is down", "so rude",
    "the new update is pretty good", "hate the new design", "can't log in", "thanks for the help",
]
JOINERS = [", ", ". ", " but ", " and ", "... ", "! ", "? ", " - ", " because "]
TAILS = ["", "", "", "!", "!!", "!!!", "??", "?!", " :)", " :(", " 😡", " 😍", " 👍", " 🙄", " ❤️",
         " #fail", " #acmeair", " https://t.co/abc123", " smh", " lol", " 😂😂😂"]


def text(rng):
    n = rng.choice([1, 1, 1, 2, 2, 2, 3, 3, 4, 6, 10])
    parts = [rng.choice(OPENERS)]
    for i in range(n):
        clause = rng.choice(CLAUSES)
        if rng.random() < 0.08:
            clause = clause.upper()
        elif rng.random() < 0.1:
            words = clause.split()
            k = rng.randrange(len(words))
            words[k] = words[k].upper()
            clause = " ".join(words)
        if i:
            parts.append(rng.choice(JOINERS))
        parts.append(clause)
    parts.append(rng.choice(TAILS))
    return "".join(parts)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    rng = random.Random(seed)
    out = sys.stdout
    for _ in range(n):
        out.write(json.dumps(text(rng), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
