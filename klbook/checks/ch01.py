"""Self-checks for chapter 1, the log-likelihood ratio."""
import math
from klbook.exercises import BITS, NumericCheck
CHECKS = {"ex-llr-demo": NumericCheck(0.5 * math.log(0.5/0.9) + 0.5*math.log(0.5/0.1), hint="h", units=BITS)}
