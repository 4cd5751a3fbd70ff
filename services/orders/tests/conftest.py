import sys
from pathlib import Path

# the orders tests' helpers live beside them
sys.path.insert(0, str(Path(__file__).parent))
