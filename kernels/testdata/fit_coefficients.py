"""Fit the polynomial coefficients of approx.go and print them.

Run with Python 3 and mpmath (tested with mpmath 1.3.0):

    python3 kernels/testdata/fit_coefficients.py

chebyfit returns a Chebyshev least-squares fit, which is close to the
minimax polynomial. The script also reports the largest relative error of
each fit on a dense grid, in exact arithmetic and with float32 evaluation.
"""

import struct

from mpmath import chebyfit, erfc, exp, log, mp, mpf, polyval

mp.dps = 40


def to_float32(value):
    return struct.unpack("f", struct.pack("f", float(value)))[0]


def horner_float32(coefficients, x):
    """Evaluate with every operation rounded to float32, as the kernels do."""
    acc = coefficients[0]
    for c in coefficients[1:]:
        acc = to_float32(to_float32(acc * x) + c)
    return acc


def report(name, coefficients, points, function, argument):
    rounded = [to_float32(c) for c in coefficients]
    exact = worst32 = 0.0
    for p in points:
        want = function(p)
        exact = max(exact, float(abs(polyval(coefficients, argument(p)) - want) / want))
        got = horner_float32(rounded, to_float32(argument(p)))
        worst32 = max(worst32, abs(got - float(want)) / float(want))
    print(f"{name}: max relative error {exact:.3g} exact, {worst32:.3g} in float32")
    # Highest degree first, as polyval takes them. approx.go numbers them
    # by degree.
    for degree, c in zip(range(len(rounded) - 1, -1, -1), rounded):
        print(f"  degree {degree}: {c!r}")


def fit_exp():
    """e^r on |r| <= ln2/2, degree 6."""
    half = log(2) / 2
    coefficients = chebyfit(exp, [-half, half], 7)
    points = [half * i / 2000 for i in range(-2000, 2001)]
    report("exp", coefficients, points, exp, lambda r: r)


def fit_erfcx():
    """erfc(t)·e^(t²) as a degree-9 polynomial in y = 1/(1 + t/2), t in [0, 9.5]."""
    p, t_max = mpf("0.5"), mpf("9.5")

    def scaled_erfc(t):
        return erfc(t) * exp(t * t)

    y_min = 1 / (1 + p * t_max)
    coefficients = chebyfit(lambda y: scaled_erfc((1 / y - 1) / p), [y_min, 1], 10)
    points = [t_max * i / 4000 for i in range(4001)]
    report("erfcx", coefficients, points, scaled_erfc, lambda t: 1 / (1 + p * t))


if __name__ == "__main__":
    fit_exp()
    fit_erfcx()
