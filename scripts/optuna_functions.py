"""The benchmark functions of tunewise-bench, for Optuna: the same names, parameter names,
bounds, parameter kinds and formulas as crates/tunewise-bench/src/functions.rs and
multi_objective.rs. Keep the two in step: a change to one is a change to the other.

Each entry maps a function's name to (number of objectives, objective). An objective takes an
Optuna trial, suggests its parameters in the same order as the Rust function, and returns a float
(one objective) or a tuple (several). Optima, reference points and regrets are not repeated
here: the harness scores the Optuna runs with its own definitions (`tunewise-bench score`).
"""

import math

PI = math.pi


def _floats(trial, d, low, high):
    return [trial.suggest_float(f"x{i}", low, high) for i in range(d)]


def sphere(d):
    shift = [2.5 * math.sin(i + 1) for i in range(d)]

    def f(trial):
        x = _floats(trial, d, -5.0, 5.0)
        return sum((xi - si) ** 2 for xi, si in zip(x, shift))

    return f"sphere-{d}d", 1, f


def branin():
    def f(trial):
        x0 = trial.suggest_float("x0", -5.0, 10.0)
        x1 = trial.suggest_float("x1", 0.0, 15.0)
        b, c, t = 5.1 / (4.0 * PI * PI), 5.0 / PI, 1.0 / (8.0 * PI)
        return (x1 - b * x0 * x0 + c * x0 - 6.0) ** 2 + 10.0 * (1.0 - t) * math.cos(x0) + 10.0

    return "branin", 1, f


def rosenbrock(d):
    def f(trial):
        x = _floats(trial, d, -5.0, 10.0)
        return sum(100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2 for i in range(d - 1))

    return f"rosenbrock-{d}d", 1, f


def rastrigin(d):
    def f(trial):
        x = _floats(trial, d, -5.12, 5.12)
        return 10.0 * d + sum(xi * xi - 10.0 * math.cos(2.0 * PI * xi) for xi in x)

    return f"rastrigin-{d}d", 1, f


def ackley(d):
    def f(trial):
        x = _floats(trial, d, -32.768, 32.768)
        sq = sum(xi * xi for xi in x) / d
        cos = sum(math.cos(2.0 * PI * xi) for xi in x) / d
        return -20.0 * math.exp(-0.2 * math.sqrt(sq)) - math.exp(cos) + 20.0 + math.e

    return f"ackley-{d}d", 1, f


def levy(d):
    def f(trial):
        x = _floats(trial, d, -10.0, 10.0)
        w = [1.0 + (xi - 1.0) / 4.0 for xi in x]
        middle = sum(
            (wi - 1.0) ** 2 * (1.0 + 10.0 * math.sin(PI * wi + 1.0) ** 2) for wi in w[:-1]
        )
        last = w[-1]
        return (
            math.sin(PI * w[0]) ** 2
            + middle
            + (last - 1.0) ** 2 * (1.0 + math.sin(2.0 * PI * last) ** 2)
        )

    return f"levy-{d}d", 1, f


def styblinski_tang(d):
    def f(trial):
        x = _floats(trial, d, -5.0, 5.0)
        return 0.5 * sum(xi**4 - 16.0 * xi * xi + 5.0 * xi for xi in x)

    return f"styblinski-tang-{d}d", 1, f


_ALPHA = [1.0, 1.2, 3.0, 3.2]


def _hartmann(x, a, p):
    total = 0.0
    for i in range(4):
        inner = sum(a[i][j] * (x[j] - p[i][j]) ** 2 for j in range(len(x)))
        total += _ALPHA[i] * math.exp(-inner)
    return -total


def hartmann3():
    a = [[3.0, 10.0, 30.0], [0.1, 10.0, 35.0], [3.0, 10.0, 30.0], [0.1, 10.0, 35.0]]
    p = [
        [0.3689, 0.1170, 0.2673],
        [0.4699, 0.4387, 0.7470],
        [0.1091, 0.8732, 0.5547],
        [0.0381, 0.5743, 0.8828],
    ]
    return "hartmann3", 1, lambda trial: _hartmann(_floats(trial, 3, 0.0, 1.0), a, p)


def hartmann6():
    a = [
        [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
        [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
        [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
        [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
    ]
    p = [
        [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
        [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
        [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
        [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
    ]
    return "hartmann6", 1, lambda trial: _hartmann(_floats(trial, 6, 0.0, 1.0), a, p)


_ACTIVATIONS = ["relu", "tanh", "sigmoid"]
_ACTIVATION_PENALTY = [0.5, 0.0, 2.0]


def mixed_integer():
    def f(trial):
        lr = trial.suggest_float("lr", -5.0, 5.0)
        layers = trial.suggest_int("layers", 1, 10)
        units = trial.suggest_int("units", 1, 1024, log=True)
        activation = trial.suggest_categorical("activation", _ACTIVATIONS)
        penalty = _ACTIVATION_PENALTY[_ACTIVATIONS.index(activation)]
        return (
            (lr - 1.0) ** 2
            + float(layers - 3) ** 2
            + (math.log2(units) - 6.0) ** 2 / 4.0
            + penalty
        )

    return "mixed-integer", 1, f


_MODELS = ["linear", "tree", "knn"]


def conditional():
    def f(trial):
        model = trial.suggest_categorical("model", _MODELS)
        if model == "linear":
            alpha = trial.suggest_float("alpha", 1e-4, 10.0, log=True)
            return 0.5 + (math.log10(alpha) + 2.0) ** 2
        if model == "tree":
            depth = trial.suggest_int("depth", 1, 16)
            min_leaf = trial.suggest_float("min_leaf", 0.0, 1.0)
            return ((depth - 6) / 4.0) ** 2 + (min_leaf - 0.25) ** 2
        k = trial.suggest_int("k", 1, 50)
        return 1.0 + ((k - 12) / 10.0) ** 2

    return "conditional", 1, f


ZDT_DIM = 30
DTLZ1_K = 5
DTLZ2_K = 10


def _zdt(name, h):
    def f(trial):
        x = _floats(trial, ZDT_DIM, 0.0, 1.0)
        g = 1.0 + 9.0 * sum(x[1:]) / (ZDT_DIM - 1)
        return x[0], g * h(x[0], g)

    return name, 2, f


def zdt1():
    return _zdt("zdt1", lambda f1, g: 1.0 - math.sqrt(f1 / g))


def zdt2():
    return _zdt("zdt2", lambda f1, g: 1.0 - (f1 / g) ** 2)


def zdt3():
    return _zdt(
        "zdt3", lambda f1, g: 1.0 - math.sqrt(f1 / g) - f1 / g * math.sin(10.0 * PI * f1)
    )


def _product(values):
    out = 1.0
    for v in values:
        out *= v
    return out


def dtlz1(m):
    def f(trial):
        x = _floats(trial, m + DTLZ1_K - 1, 0.0, 1.0)
        position, distance = x[: m - 1], x[m - 1 :]
        g = 100.0 * (
            len(distance)
            + sum((xi - 0.5) ** 2 - math.cos(20.0 * PI * (xi - 0.5)) for xi in distance)
        )
        values = []
        for i in range(m):
            kept = m - 1 - i
            v = 0.5 * (1.0 + g) * _product(position[:kept])
            if i > 0:
                v *= 1.0 - position[kept]
            values.append(v)
        return tuple(values)

    return f"dtlz1-{m}obj", m, f


def dtlz2(m):
    def f(trial):
        x = _floats(trial, m + DTLZ2_K - 1, 0.0, 1.0)
        position, distance = x[: m - 1], x[m - 1 :]
        g = sum((xi - 0.5) ** 2 for xi in distance)
        values = []
        for i in range(m):
            kept = m - 1 - i
            v = (1.0 + g) * _product(math.cos(xi * PI / 2.0) for xi in position[:kept])
            if i > 0:
                v *= math.sin(position[kept] * PI / 2.0)
            values.append(v)
        return tuple(values)

    return f"dtlz2-{m}obj", m, f


def suite():
    """Every function, in the harness's order: name -> (objectives, objective)."""
    entries = [
        sphere(5),
        branin(),
        rosenbrock(4),
        rastrigin(5),
        ackley(5),
        levy(5),
        styblinski_tang(5),
        hartmann3(),
        hartmann6(),
        mixed_integer(),
        conditional(),
        zdt1(),
        zdt2(),
        zdt3(),
        dtlz1(2),
        dtlz1(3),
        dtlz2(2),
        dtlz2(3),
    ]
    return {name: (m, f) for name, m, f in entries}
