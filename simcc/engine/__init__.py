"""The engine layer: a validated scenario compiled to flat arrays, and the two engines that run it.

``compile`` (arrays), ``contract`` (codes and the statistics layout both
engines share), ``streams`` (random streams), ``_core`` (the compiled event
kernel), ``reference`` (the same model on SimPy), ``routing`` (the Python
Router), ``replication`` (one replication on either engine).
"""
from .compile import CompiledScenario, compile_scenario
from .replication import ENGINES, run_replication

__all__ = ["ENGINES", "CompiledScenario", "compile_scenario", "run_replication"]
