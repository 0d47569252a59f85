"""Online anomaly detectors: pure Python on River's ``AnomalyDetector`` protocol.

No Faust, no Kafka, no clock reads: each detector is fed plain dicts of numbers,
one per closed window, and is testable with a list of numbers.
"""

from detectors.base import Detector
from detectors.cusum import RateCusumDetector
from detectors.ewma import EWMeanVar
from detectors.inflation import ViewerInflationDetector
from detectors.level import LevelDetector
from detectors.price import PriceShiftDetector
from detectors.rate import PoissonRateDetector
from detectors.record import RecordDetector
from detectors.surge import CountSurgeDetector
from detectors.zscore import EWMAZScoreDetector

__all__ = [
    "CountSurgeDetector",
    "Detector",
    "EWMAZScoreDetector",
    "EWMeanVar",
    "LevelDetector",
    "PoissonRateDetector",
    "PriceShiftDetector",
    "RateCusumDetector",
    "RecordDetector",
    "ViewerInflationDetector",
]
