"""Simulated indicator values for one reporting day: skewed, mostly-zero where real ones are.

Magnitudes follow the seed reports (a township of ~30 villages; villages of ~1,000 people,
communities of several thousand; cases almost always zero; masks and disinfectant short).
Everything is drawn column-wise from one numpy Generator, so a seed fixes every value.
Rows produced here are *clean*: within catalogue bounds and satisfying every error-level
rule; planted mistakes are applied afterwards by :mod:`huizong.demo.day`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from huizong.catalogue import Catalogue

#: Problems clerks report (存在问题), drawn from the seed township/village reports.
PROBLEMS = (
    "口罩等防护物资紧缺",
    "口罩和消毒液等必备物资目前采购困难",
    "卡口值守人员不足，夜间轮班困难",
    "返乡人员信息核实难度大",
    "部分群众防护意识不强，仍有聚集现象",
    "人员聚餐难以避免",
    "不良媒体散播谣言导致群众恐慌",
    "测温枪数量不足",
    "干部入户宣传时自身安全难以保障",
    "外来车辆较多，劝返工作压力大",
    "独居老人生活物资保障困难",
    "各类统计表格较多，基层填报负担重",
)

#: Suggestions (意见建议), same source.
SUGGESTIONS = (
    "建议增加消毒物资",
    "建议上级统一调配口罩等防护用品",
    "建议增派卡口值守力量",
    "建议将疫情防控经费划拨到乡镇，多渠道采购防护用品",
    "建议加强对不良媒体的监管，避免谣言造成恐慌",
    "建议减少非必要表格和数据的统计",
    "建议在县级交汇点设置疫情监测点，全面监测外来车辆、人员",
    "建议公安部门协助核实返乡人员行程",
    "建议为网格员配发防护服和测温枪",
)

#: Departments do not staff village grids or screen returnees: they mark these 不适用.
DEPARTMENT_NOT_APPLICABLE = (
    "returnees_new",
    "returnees_total",
    "returnees_key_area_total",
    "returnees_other_province_total",
    "grid_cells",
)

NOT_APPLICABLE_TEXT = "不适用"


def _poisson(rng: np.random.Generator, mean: np.ndarray | float, n: int) -> np.ndarray:
    return rng.poisson(np.broadcast_to(np.asarray(mean, dtype="float64"), (n,))).astype("int64")


def _skewed(rng: np.random.Generator, base: float, size: np.ndarray, sigma: float = 0.5):
    """Counts scaled by unit size with lognormal day-to-day noise (a mixed Poisson)."""
    n = len(size)
    return _poisson(rng, base * size * rng.lognormal(0.0, sigma, n), n)


def _binomial(rng: np.random.Generator, total: np.ndarray, p: float | np.ndarray) -> np.ndarray:
    return rng.binomial(total, p).astype("int64")


def unit_sizes(names: pd.Series, rng: np.random.Generator) -> np.ndarray:
    """Population in thousands: villages ~1,000 people, communities ~5,000 (lognormal)."""
    n = len(names)
    community = names.str.contains("居民委员会|居委会|社区", regex=True).to_numpy(bool)
    median = np.where(community, 5.0, 1.1)
    return median * rng.lognormal(0.0, 0.55, n)


def simulate_values(
    size: np.ndarray, rng: np.random.Generator, catalogue: Catalogue
) -> dict[str, np.ndarray]:
    """Clean int64 values per numeric indicator, one entry per unit of the given size."""
    n = len(size)
    v: dict[str, np.ndarray] = {}
    people = np.maximum(50, (size * 1000).astype("int64"))
    v["persons_screened"] = _binomial(rng, people, rng.uniform(0.3, 0.95, n))
    v["households_visited"] = (v["persons_screened"] / rng.uniform(2.4, 3.6, n)).astype("int64")
    v["returnees_total"] = _binomial(rng, people, rng.uniform(0.01, 0.07, n))
    v["returnees_new"] = _binomial(rng, v["returnees_total"], rng.uniform(0.02, 0.2, n))
    v["returnees_key_area_total"] = _binomial(rng, v["returnees_total"], 0.02)
    v["returnees_other_province_total"] = _binomial(rng, v["returnees_total"], 0.35)
    v["temperature_checks"] = _skewed(rng, 600.0, size, 0.6)
    v["home_isolation"] = _binomial(rng, v["returnees_total"], 0.12)
    v["medical_observation"] = _poisson(rng, 0.04 * size, n)
    v["isolation_released_total"] = _binomial(rng, v["home_isolation"], 0.1)
    v["close_contacts"] = _poisson(rng, 0.02 * size, n)
    # cases: about 97% of units report zero suspected cases, ~99% zero new confirmed
    v["suspected_cases"] = (rng.random(n) < 0.03).astype("int64") * (1 + _poisson(rng, 0.3, n))
    v["confirmed_new"] = (rng.random(n) < 0.008).astype("int64")
    earlier = (rng.random(n) < 0.01).astype("int64") * (1 + _poisson(rng, 0.5, n))
    v["confirmed_total"] = v["confirmed_new"] + earlier
    v["fever_referrals"] = _poisson(rng, 0.06 * size, n)
    v["checkpoints"] = 1 + _poisson(rng, 1.2 * np.sqrt(size), n)
    v["checkpoint_staff"] = v["checkpoints"] * rng.integers(2, 7, n)
    v["vehicles_checked"] = _skewed(rng, 60.0, size, 0.7)
    v["persons_persuaded_back"] = _poisson(rng, 1.5 * np.sqrt(size), n)
    v["grid_cells"] = 1 + _poisson(rng, 3.0 * size, n)
    v["grid_workers"] = v["grid_cells"] + _poisson(rng, 1.0 * size, n)
    v["volunteers"] = _skewed(rng, 8.0, size, 0.6)
    v["followup_rate"] = 100 - np.minimum(40, rng.geometric(0.25, n) - 1).astype("int64")
    v["notices_posted"] = 1 + _skewed(rng, 6.0, size, 0.5)
    v["leaflets"] = _skewed(rng, 200.0, size, 0.6)
    v["banners"] = 1 + _poisson(rng, 2.0 * np.sqrt(size), n)
    v["led_screens"] = _poisson(rng, 0.3 * size, n)
    v["broadcasts"] = 2 + _poisson(rng, 8.0, n)
    v["wechat_posts"] = _poisson(rng, 5.0 * np.sqrt(size), n)
    v["disinfected_area"] = _skewed(rng, 3000.0, size, 0.8)
    v["disinfection_rounds"] = 1 + _poisson(rng, 1.0, n)
    # supplies are short: a tenth of units have no masks left
    v["masks_in_stock"] = _skewed(rng, 150.0, size, 0.9) * (rng.random(n) > 0.1)
    v["masks_distributed"] = _skewed(rng, 80.0, size, 0.8)
    v["disinfectant_stock"] = _skewed(rng, 12.0, size, 0.7)
    v["thermometers"] = 1 + _poisson(rng, 3.0 * np.sqrt(size), n)
    v["mask_supply_days"] = np.where(v["masks_in_stock"] == 0, 0, 1 + _poisson(rng, 4.0, n))
    v["staff_on_duty"] = 3 + _skewed(rng, 6.0, size, 0.4)
    v["meetings_held"] = _poisson(rng, 0.6, n)
    v["gatherings_stopped"] = _poisson(rng, 0.4 * np.sqrt(size), n)
    v["risk_level"] = 1 + (rng.random(n) < 0.13).astype("int64") + (rng.random(n) < 0.02)
    out: dict[str, np.ndarray] = {}
    for ind in catalogue.numeric:
        col = v.get(ind.code)
        if col is None:  # a catalogue indicator this simulator does not know: small counts
            col = _poisson(rng, 2.0, n)
        upper = ind.max if ind.max is not None else np.iinfo("int64").max
        out[ind.code] = np.clip(col.astype("int64"), ind.min, upper)
    return out


def simulate_text(
    n: int, rng: np.random.Generator, p_problem: float = 0.08, p_suggestion: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Occasional problem / suggestion texts (None = left blank), one or two phrases."""
    problems = np.full(n, None, dtype=object)
    suggestions = np.full(n, None, dtype=object)
    for target, phrases, p in (
        (problems, PROBLEMS, p_problem),
        (suggestions, SUGGESTIONS, p_suggestion),
    ):
        hit = np.flatnonzero(rng.random(n) < p)
        first = rng.integers(0, len(phrases), len(hit))
        second = rng.integers(0, len(phrases), len(hit))
        both = rng.random(len(hit)) < 0.3
        for k, i in enumerate(hit):
            text = phrases[first[k]]
            if both[k] and second[k] != first[k]:
                text = f"{text}；{phrases[second[k]]}"
            target[i] = text
    return problems, suggestions
