"""Accuracy and calibration figures of one test set's answers.

An answer is (label, status, prediction, confidence): label None for a picture without
a digit; status the HTTP status; prediction and confidence None unless status is 200.
"""

ECE_BINS = 15


def expected_calibration_error(pairs, bins=ECE_BINS):
    """ECE over (confidence, correct) PAIRS: BINS equal-width bins on confidence; the
    mean over bins of |accuracy - mean confidence|, weighted by the bin's share."""
    if not pairs:
        return float("nan")
    sums = [[0, 0.0, 0] for _ in range(bins)]  # count, confidence sum, right
    for conf, right in pairs:
        b = sums[min(bins - 1, int(conf * bins))]
        b[0] += 1
        b[1] += conf
        b[2] += 1 if right else 0
    return sum(abs(r / n - c / n) * n for n, c, r in sums if n) / len(pairs)


def mean(values):
    return sum(values) / len(values) if values else float("nan")


def digit_summary(answers, threshold):
    """Figures of a set of digits: a refusal (any status but 200) counts as wrong;
    calibration is over the answered ones."""
    answered = [(a[3], a[2] == a[0]) for a in answers if a[1] == 200]
    right = [c for c, ok in answered if ok]
    wrong = [c for c, ok in answered if not ok]
    n = len(answers)
    return {
        "images": n,
        "accuracy": 100.0 * len(right) / n if n else float("nan"),
        "refused": 100.0 * (n - len(answered)) / n if n else float("nan"),
        "ece": 100.0 * expected_calibration_error(answered),
        "conf_right": mean(right),
        "conf_wrong": mean(wrong),
        # how often the UI would say "not sure" about a right and a wrong answer
        "unsure_right": 100.0 * sum(c < threshold for c in right) / len(right) if right else float("nan"),
        "unsure_wrong": 100.0 * sum(c < threshold for c in wrong) / len(wrong) if wrong else float("nan"),
    }


def per_digit_accuracy(answers):
    """Accuracy in % of each digit 0..9 (NaN for a digit the set does not have) and
    the most common wrong answer for it ("refused" for a 422; None when all were right)."""
    out = []
    for d in range(10):
        mine = [a for a in answers if a[0] == d]
        wrong = [a[2] if a[1] == 200 else "refused" for a in mine if a[2] != d]
        common = max(set(wrong), key=wrong.count, default=None)
        out.append((100.0 * (len(mine) - len(wrong)) / len(mine) if mine else float("nan"), common))
    return out


def nondigit_summary(answers, threshold):
    """Figures of a set without digits: the share refused (422) and the share the UI
    would show as "not sure"; "caught" is either."""
    n = len(answers)
    refused = sum(1 for a in answers if a[1] == 422)
    confs = [a[3] for a in answers if a[1] == 200]
    unsure = sum(1 for c in confs if c < threshold)
    return {
        "images": n,
        "refused": 100.0 * refused / n if n else float("nan"),
        "unsure": 100.0 * unsure / n if n else float("nan"),
        "caught": 100.0 * (refused + unsure) / n if n else float("nan"),
        "conf_answered": mean(confs),
    }
