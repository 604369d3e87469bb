#!/usr/bin/env python3
"""Scores texts (one JSON string per line) with the reference vaderSentiment on one thread.

usage: vader_reference.py TEXTS OUT_COMPOUNDS [ROUNDS]
Prints one JSON object (texts, seconds, texts_per_second) for the best of ROUNDS (default 5) timed
passes, as examples/bench_sentiment.rs times ours. Writes each text's compound to OUT_COMPOUNDS.
"""
import json
import sys
import time

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer


def main():
    texts = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    analyzer = SentimentIntensityAnalyzer()
    seconds = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        compounds = [analyzer.polarity_scores(t)["compound"] for t in texts]
        seconds = min(seconds, time.perf_counter() - start)
    with open(sys.argv[2], "w") as out:
        out.writelines("%r\n" % c for c in compounds)
    print(json.dumps({"texts": len(texts), "seconds": seconds, "texts_per_second": len(texts) / seconds}))


if __name__ == "__main__":
    main()
