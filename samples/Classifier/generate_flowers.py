"""Writes flowers.csv: 180 synthetic flowers of three species, shaped like Fisher's Iris measurements.

The rows are generated, not measured: per species, each measurement is drawn from a normal distribution with
roughly the mean and spread the Iris data set has for that species, rounded to 0.1 cm. Deterministic (seed 7):
running it again writes the same file.  Usage: python3 generate_flowers.py > flowers.csv
"""
import random

# species: (mean, standard deviation) of sepal length, sepal width, petal length, petal width, in cm
SPECIES = {
    "setosa": [(5.0, 0.35), (3.4, 0.38), (1.5, 0.17), (0.25, 0.11)],
    "versicolor": [(5.9, 0.52), (2.8, 0.31), (4.3, 0.47), (1.33, 0.2)],
    "virginica": [(6.6, 0.64), (3.0, 0.32), (5.55, 0.55), (2.03, 0.27)],
}
PER_SPECIES = 60

rng = random.Random(7)
rows = []
for species, columns in SPECIES.items():
    for _ in range(PER_SPECIES):
        rows.append([max(0.1, round(rng.gauss(mean, sd), 1)) for mean, sd in columns] + [species])
rng.shuffle(rows)
print("sepal_length,sepal_width,petal_length,petal_width,species")
for row in rows:
    print(",".join(str(value) for value in row))
