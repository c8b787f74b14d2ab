"""The book's glossary (English and Chinese): the terms, and book/glossary.md made from them.

Each term is ``(english, chinese, meaning, where)``. ``where`` says where the book
defines it: ``prf(label)`` (a definition, theorem or algorithm box), ``ref(label)``
(an exercise), ``sec(notebook, heading)`` (a section, through its heading anchor) or
``planned(notebook)`` for a chapter in preparation: such a term links to its chapter
only once that notebook exists and is listed in _toc.yml, so the build never points at
a missing page. The Chinese terms follow the Chinese edition of Zhao's book
(《强化学习的数学原理》) and common usage.

The Sphinx extension tools/rlbook_sphinx.py writes book/glossary.md from this file
when the build starts; by hand: ``python tools/glossary.py``.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
C1, C2, C3, C4, PG, TR = ("c01_basic_concepts", "c02_bellman_equation", "c03_bellman_optimality",
                          "c04_value_policy_iteration", "pg_theorem", "trpo_ppo")


def prf(label):
    return ("prf", label)


def ref(label):
    return ("ref", label)


def sec(doc, heading):
    return ("sec", doc, heading)


def planned(doc):
    return ("planned", doc)


# (english, chinese, meaning, where)
TERMS = [
("agent", "智能体", "the learner and decision maker that chooses actions", sec(C1, "A grid world: states and actions")),
("environment", "环境", "everything outside the agent; it returns the next state and the reward", sec(C1, "Markov decision processes")),
("state", "状态", "the situation of the agent, one of finitely many in this book's tabular chapters", sec(C1, "A grid world: states and actions")),
("state space", "状态空间", "the set of all states", sec(C1, "A grid world: states and actions")),
("action", "动作", "a choice available to the agent in a state", sec(C1, "A grid world: states and actions")),
("action space", "动作空间", "the set of actions available in a state", sec(C1, "A grid world: states and actions")),
("grid world", "网格世界", "Zhao's 5 x 5 example environment with boundary, forbidden and target cells", sec(C1, "A grid world: states and actions")),
("forbidden area", "禁止区域", "grid-world cells that can be entered at a cost", sec(C1, "Rewards")),
("target area", "目标区域", "the grid-world cell the agent should reach", sec(C1, "Rewards")),
("state transition", "状态转移", "the move from one state to the next after an action", sec(C1, "Markov decision processes")),
("state transition probability", "状态转移概率", "$p(s' \\mid s, a)$, the law of the next state", prf("c01-def-mdp")),
("policy", "策略", "a rule that gives, for each state, a distribution over actions", prf("c01-def-policy")),
("deterministic policy", "确定性策略", "a policy that chooses one action in each state with probability one", prf("c01-def-policy")),
("stochastic policy", "随机策略", "a policy that may choose several actions with positive probability", prf("c01-def-policy")),
("reward", "奖励", "the scalar the environment returns after each action", sec(C1, "Rewards")),
("expected reward", "期望奖励", "$r(s, a)$, the mean reward of taking $a$ in $s$", sec(C2, "The Bellman equation")),
("trajectory", "轨迹", "a sequence of states, actions and rewards", prf("c01-def-return")),
("episode", "回合", "a trajectory that ends in a terminal state", prf("c01-def-return")),
("episodic task", "回合制任务", "a task whose episodes end", prf("c01-def-return")),
("continuing task", "持续性任务", "a task that never ends", prf("c01-def-return")),
("terminal state", "终止状态", "a state where an episode ends", sec(C2, "Sutton and Barto, Example 4.1: an undiscounted episodic task")),
("return", "回报", "the (discounted) sum of rewards along a trajectory", prf("c01-def-return")),
("discounted return", "折扣回报", "$G_t$, the sum of rewards discounted by powers of $\\gamma$", prf("c01-def-return")),
("discount rate", "折扣率", "$\\gamma \\in [0, 1)$, also called the discount factor (折扣因子)", prf("c01-def-return")),
("return recursion", "回报递推式", "$G_t = R_{t+1} + \\gamma G_{t+1}$", prf("c01-lem-recursion")),
("effective horizon", "有效视界", "the number of steps after which discounted rewards hardly matter", ref("c01-ex-horizon")),
("Markov decision process", "马尔可夫决策过程", "states, actions, transition and reward laws, and a discount rate", prf("c01-def-mdp")),
("Markov property", "马尔可夫性质", "the next state and reward depend on the past only through the present state and action", prf("c01-def-markov")),
("Markov chain", "马尔可夫链", "the sequence of states under a fixed policy", sec(C2, "The matrix form")),
("state value", "状态值", "$v_\\pi(s)$, the expected return from $s$ under $\\pi$", prf("c02-def-state-value")),
("state value function", "状态值函数", "the map $s \\mapsto v_\\pi(s)$", prf("c02-def-state-value")),
("Bellman equation", "贝尔曼方程", "$v_\\pi(s) = \\sum_a \\pi(a \\mid s)[r(s,a) + \\gamma \\sum_{s'} p(s' \\mid s,a)\\, v_\\pi(s')]$", prf("c02-thm-bellman")),
("matrix form of the Bellman equation", "贝尔曼方程的矩阵形式", "$v_\\pi = r_\\pi + \\gamma P_\\pi v_\\pi$", sec(C2, "The matrix form")),
("transition matrix of a policy", "策略的状态转移矩阵", "$P_\\pi(s, s') = \\sum_a \\pi(a \\mid s)\\, p(s' \\mid s,a)$; rows sum to one", sec(C2, "The matrix form")),
("reward vector of a policy", "策略的奖励向量", "$r_\\pi(s) = \\sum_a \\pi(a \\mid s)\\, r(s,a)$", sec(C2, "The matrix form")),
("closed-form solution", "闭式解", "$v_\\pi = (I - \\gamma P_\\pi)^{-1} r_\\pi$", prf("c02-lem-invertible")),
("Bellman expectation operator", "贝尔曼期望算子", "$T_\\pi v = r_\\pi + \\gamma P_\\pi v$", sec(C2, "Iterative policy evaluation")),
("policy evaluation", "策略评估", "computing $v_\\pi$ for a given policy", sec(C2, "Iterative policy evaluation")),
("iterative policy evaluation", "迭代策略评估", "repeating $v \\leftarrow T_\\pi v$ until convergence", prf("c02-thm-iterative")),
("Bellman residual", "贝尔曼残差", "the largest violation of the Bellman equation by a candidate value", sec(C2, "A pitfall: transposing the transition matrix")),
("action value", "动作值", "$q_\\pi(s, a)$, the expected return after taking $a$ in $s$ and then following $\\pi$", prf("c02-def-action-value")),
("action value function", "动作值函数", "the map $(s, a) \\mapsto q_\\pi(s, a)$, also called the Q function", prf("c02-def-action-value")),
("optimal policy", "最优策略", "a policy whose state values are at least those of any other policy in every state", prf("c03-def-optimal")),
("optimal state value", "最优状态值", "$v^*(s)$, the state value of an optimal policy", prf("c03-def-optimal")),
("optimal action value", "最优动作值", "$q^*(s, a)$, the action value under an optimal policy", prf("c03-def-boe")),
("Bellman optimality equation", "贝尔曼最优方程", "$v(s) = \\max_a [r(s,a) + \\gamma \\sum_{s'} p(s' \\mid s,a)\\, v(s')]$", prf("c03-def-boe")),
("Bellman optimality operator", "贝尔曼最优算子", "the right-hand side of the Bellman optimality equation as a map of $v$", prf("c03-def-boe")),
("contraction mapping", "压缩映射", "a map that shrinks all distances by a factor below one", prf("c03-thm-contraction")),
("contraction mapping theorem", "压缩映射定理", "a contraction has a unique fixed point and iteration converges to it", prf("c03-thm-banach")),
("fixed point", "不动点", "a point that a map sends to itself", prf("c03-thm-banach")),
("monotonicity", "单调性", "$v \\le w$ implies $T v \\le T w$", prf("c03-thm-contraction")),
("greedy policy", "贪婪策略", "a policy that picks an action maximising the action value", prf("c03-thm-greedy")),
("tie-breaking rule", "平局打破规则", "which maximiser a greedy policy takes when several actions are optimal", sec(C3, "Zhao's grid world")),
("reward shaping by affine change", "奖励的仿射变换", "scaling all rewards by $\\alpha > 0$ and adding a constant leaves optimal policies unchanged", prf("c03-thm-affine")),
("error bound", "误差界", "the distance to $v^*$ guaranteed after $k$ iterations", sec(C3, "Existence, uniqueness and the error bound")),
("dynamic programming", "动态规划", "methods that compute values from a known model by Bellman operators", sec(C4, "Value iteration")),
("value iteration", "值迭代", "repeat $v \\leftarrow T v$ with the optimality operator", prf("c04-alg-vi")),
("stopping rule", "停止准则", "when to stop value iteration with a guaranteed accuracy", prf("c04-thm-vi")),
("policy iteration", "策略迭代", "alternate exact policy evaluation and greedy improvement", prf("c04-alg-pi")),
("policy improvement", "策略改进", "replacing a policy by a greedy one with respect to its values", prf("c04-lem-improvement")),
("policy improvement lemma", "策略改进引理", "the greedy policy is at least as good in every state", prf("c04-lem-improvement")),
("truncated policy iteration", "截断策略迭代", "policy iteration with a fixed number of evaluation sweeps", prf("c04-prop-tpi")),
("model-based", "基于模型的", "using the transition and reward laws", sec(C4, "Value iteration")),
("policy gradient", "策略梯度", "the gradient of a policy objective with respect to the policy parameters", sec(PG, "The theorem and its proof")),
("policy gradient theorem", "策略梯度定理", "$\\nabla J = \\sum_s \\eta(s) \\sum_a \\nabla \\pi(a \\mid s)\\, q_\\pi(s, a)$", prf("pgt-thm-pg")),
("policy parameterisation", "策略参数化", "a policy written as a differentiable function of parameters $\\theta$", sec(PG, "Objectives")),
("softmax policy", "softmax 策略", "$\\pi(a \\mid s) \\propto \\exp(\\theta_{s,a})$", prf("pgt-lem-score")),
("objective function", "目标函数", "the scalar a policy-gradient method maximises", prf("pgt-def-objectives")),
("start-state value", "初始状态值", "$J = \\rho_0^\\top v_\\pi$", prf("pgt-def-objectives")),
("average state value", "平均状态值", "the state values averaged under a distribution over states", prf("pgt-def-objectives")),
("average reward", "平均奖励", "the expected reward per step under the stationary distribution", prf("pgt-def-objectives")),
("stationary distribution", "平稳分布", "$d_\\pi$ with $d_\\pi^\\top P_\\pi = d_\\pi^\\top$", prf("pgt-thm-rbar")),
("discounted visitation", "折扣状态访问分布", "$\\eta(s)$, the expected discounted number of visits to $s$", prf("pgt-def-eta")),
("log-derivative trick", "对数导数技巧", "$\\nabla p = p\\, \\nabla \\ln p$", prf("pgt-lem-logtrick")),
("score function", "得分函数", "$\\nabla \\ln \\pi(a \\mid s)$, the gradient of the log-probability", prf("pgt-lem-score")),
("REINFORCE", "REINFORCE 算法", "the Monte Carlo policy-gradient estimator and its learning rule", sec(PG, "REINFORCE in practice")),
("reward-to-go", "剩余回报", "the return from step $t$ on; past rewards drop out of the gradient", prf("pgt-lem-causality")),
("causality", "因果性", "an action cannot influence rewards received before it", prf("pgt-lem-causality")),
("baseline", "基线", "a function of the state subtracted from the return without changing the expected gradient", prf("pgt-lem-baseline")),
("optimal baseline", "最优基线", "the baseline that minimises the variance of the gradient estimate", prf("pgt-thm-bstar")),
("variance reduction", "方差缩减", "techniques that lower the variance of an unbiased estimator", sec(PG, "Baselines")),
("advantage function", "优势函数", "$A_\\pi(s, a) = q_\\pi(s, a) - v_\\pi(s)$", sec(PG, "Baselines")),
("importance sampling", "重要性采样", "reweighting samples of one distribution to estimate expectations under another", prf("pgt-lem-is")),
("importance weight", "重要性权重", "the ratio of target to behaviour probabilities", prf("pgt-lem-is")),
("behaviour policy", "行为策略", "the policy that generated the data", sec(PG, "Off-policy gradients")),
("target policy", "目标策略", "the policy being evaluated or improved", sec(PG, "Off-policy gradients")),
("off-policy", "异策略", "learning about one policy from data of another (also 离线策略)", sec(PG, "Off-policy gradients")),
("on-policy", "同策略", "learning about the policy that generates the data (also 在线策略)", sec(PG, "From theorem to estimator")),
("off-policy policy gradient", "异策略策略梯度", "the policy gradient estimated from another policy's trajectories", prf("pgt-thm-offpolicy")),
("per-decision importance sampling", "逐决策重要性采样", "weights that use only the ratios up to the current step", sec(PG, "Off-policy gradients")),
("unbiased estimator", "无偏估计量", "an estimator whose expectation equals the target", sec(PG, "From theorem to estimator")),
("standard error", "标准误差", "the standard deviation of a Monte Carlo mean; the book's tolerances are multiples of it", sec(PG, "From theorem to estimator")),
("Monte Carlo estimate", "蒙特卡洛估计", "an average over sampled trajectories", sec(C2, "The Bellman equation")),
("entropy", "熵", "$H(p) = -\\sum_x p(x) \\ln p(x)$", prf("trpo-def-information")),
("cross-entropy", "交叉熵", "$-\\sum_x p(x) \\ln q(x)$", prf("trpo-def-information")),
("KL divergence", "KL 散度", "$D_{\\mathrm{KL}}(p \\Vert q) = \\sum_x p(x) \\ln(p(x)/q(x))$, also 相对熵", prf("trpo-def-information")),
("total variation distance", "全变差距离", "half the $\\ell_1$ distance between two distributions", prf("trpo-def-information")),
("Pinsker's inequality", "Pinsker 不等式", "total variation is at most $\\sqrt{D_{\\mathrm{KL}}/2}$", prf("trpo-thm-kl-facts")),
("performance difference lemma", "性能差分引理", "$\\eta(\\tilde\\pi) - \\eta(\\pi)$ is the old advantage averaged under the new policy's visitation", prf("trpo-lem-pdl")),
("surrogate objective", "替代目标函数", "$L_\\pi(\\tilde\\pi)$: the new policy's advantage under the old visitation", prf("trpo-def-surrogate")),
("monotonic improvement", "单调改进", "a guarantee that each update does not decrease the objective", prf("trpo-thm-bound")),
("monotonic improvement bound", "单调改进下界", "$\\eta(\\tilde\\pi) \\ge L_\\pi(\\tilde\\pi) - C\\, D_{\\mathrm{KL}}^{\\max}(\\pi, \\tilde\\pi)$", prf("trpo-thm-bound")),
("minorise-maximise", "极小化-极大化（MM）算法", "maximise a lower bound that touches the objective at the current point", sec(TR, "Minorise–maximise policy iteration")),
("trust region", "信赖域", "a neighbourhood, here a KL ball, within which a local model is trusted", sec(TR, "From the bound to TRPO")),
("trust region policy optimisation", "信赖域策略优化（TRPO）", "maximise the surrogate subject to an average KL constraint", sec(TR, "From the bound to TRPO")),
("Fisher information matrix", "费希尔信息矩阵", "the expected outer product of the score; the Hessian of the KL divergence", prf("trpo-prop-fisher")),
("natural gradient", "自然梯度", "the gradient preconditioned by the inverse Fisher matrix", prf("trpo-thm-npg-step")),
("natural policy gradient", "自然策略梯度", "Kakade's natural gradient of the policy objective", prf("trpo-prop-kakade")),
("conjugate gradient method", "共轭梯度法", "solving $F x = g$ with matrix-vector products only", prf("trpo-thm-cg")),
("line search", "线搜索", "shrinking a step until the constraint and improvement hold", sec(TR, "TRPO on CartPole")),
("damping", "阻尼", "adding a multiple of the identity to the Fisher matrix", sec(TR, "The headline check on a small network")),
("proximal policy optimisation", "近端策略优化（PPO）", "first-order updates of a clipped or penalised surrogate", sec(TR, "PPO")),
("probability ratio", "概率比", "$r_t(\\theta) = \\pi_\\theta(a_t \\mid s_t) / \\pi_{\\theta_{\\rm old}}(a_t \\mid s_t)$", prf("trpo-def-clip")),
("clipped surrogate objective", "裁剪替代目标", "PPO's objective with the ratio clipped to $[1 - \\epsilon, 1 + \\epsilon]$", prf("trpo-def-clip")),
("clip range", "裁剪范围", "the $\\epsilon$ of PPO's clip", prf("trpo-prop-clip")),
("adaptive KL penalty", "自适应 KL 惩罚", "a KL penalty whose coefficient is adjusted to hit a target divergence", sec(TR, "The adaptive KL penalty")),
("generalised advantage estimation", "广义优势估计（GAE）", "an exponentially weighted average of n-step advantage estimates", prf("trpo-def-gae")),
("n-step advantage", "n 步优势估计", "$n$ rewards plus a bootstrapped value, minus the current value", prf("trpo-prop-gae")),
("TD error", "时序差分误差", "$\\delta_t = r_t + \\gamma V(s_{t+1}) - V(s_t)$", prf("trpo-def-gae")),
("bootstrapping", "自举", "using a current value estimate in the target of an update", prf("trpo-def-gae")),
("entropy bonus", "熵奖励", "an entropy term added to the objective to keep the policy exploratory", sec(TR, "Entropy bonus and value loss")),
("value loss", "值函数损失", "the regression loss of the critic", sec(TR, "Entropy bonus and value loss")),
("minibatch", "小批量", "a subset of a batch used for one gradient step", sec(TR, "PPO on CartPole")),
("epoch", "轮次", "one pass over a batch of data", sec(TR, "PPO on CartPole")),
("CartPole", "倒立摆（CartPole）", "the pole-balancing control task used in the deep-RL chapters", sec(PG, "CartPole")),
("short corridor", "短走廊问题", "Sutton and Barto's Example 13.1, where the best policy is stochastic", sec(PG, "Why stochastic policies: the short corridor")),
# planned chapters: no link until the chapter exists
("Monte Carlo learning", "蒙特卡洛学习", "estimating values from complete episodes", planned("c05_monte_carlo")),
("exploring starts", "探索性起点", "starting episodes from every state-action pair", planned("c05_monte_carlo")),
("epsilon-greedy policy", "ε-贪婪策略", "greedy with probability $1 - \\varepsilon$, uniform otherwise", planned("c05_monte_carlo")),
("exploration and exploitation", "探索与利用", "trying new actions versus using the best known one", planned("c05_monte_carlo")),
("stochastic approximation", "随机近似", "root finding and optimisation from noisy samples", planned("c06_stochastic_approximation")),
("Robbins-Monro algorithm", "Robbins-Monro 算法", "$w_{k+1} = w_k - a_k \\tilde g(w_k)$, a stochastic root-finding iteration", planned("c06_stochastic_approximation")),
("almost-sure convergence", "几乎必然收敛", "convergence with probability one (the Robbins-Monro theorem's mode)", planned("c06_stochastic_approximation")),
("stochastic gradient descent", "随机梯度下降", "gradient descent with sampled gradients", planned("c06_stochastic_approximation")),
("temporal-difference learning", "时序差分学习", "learning values from one-step bootstrapped targets", planned("c07_temporal_difference")),
("TD target", "TD 目标", "$r + \\gamma v(s')$, the target of a TD update", planned("c07_temporal_difference")),
("Sarsa", "Sarsa 算法", "on-policy TD control with action values", planned("c07_temporal_difference")),
("Q-learning", "Q 学习", "off-policy TD control towards the Bellman optimality equation", planned("c07_temporal_difference")),
("value function approximation", "值函数近似", "representing values by a parameterised function", planned("c08_value_approximation")),
("linear function approximation", "线性函数近似", "values as inner products of features and weights", planned("c08_value_approximation")),
("feature vector", "特征向量", "the vector $\\phi(s)$ that represents a state", planned("c08_value_approximation")),
("projected Bellman equation", "投影贝尔曼方程", "the Bellman equation projected onto the span of the features", planned("c08_value_approximation")),
("deep Q-network", "深度 Q 网络（DQN）", "Q-learning with a neural network, experience replay and a target network", planned("c08_value_approximation")),
("experience replay", "经验回放", "reusing stored transitions in random minibatches", planned("c08_value_approximation")),
("target network", "目标网络", "a slowly updated copy of the network used in TD targets", planned("c08_value_approximation")),
("actor-critic", "演员-评论家方法", "a policy (actor) trained with a learned value (critic)", planned("c10_actor_critic")),
("advantage actor-critic", "优势演员-评论家（A2C）", "actor-critic with an advantage estimate as the weight", planned("c10_actor_critic")),
("deterministic policy gradient", "确定性策略梯度", "the gradient of the objective for a deterministic continuous policy", planned("c10_actor_critic")),
("Gaussian policy", "高斯策略", "a continuous-action policy with normally distributed actions", planned("continuous_control")),
("maximum-entropy reinforcement learning", "最大熵强化学习", "maximising return plus policy entropy", planned("continuous_control")),
("soft actor-critic", "软演员-评论家（SAC）", "an off-policy maximum-entropy actor-critic", planned("continuous_control")),
("reparameterisation trick", "重参数化技巧", "writing a sample as a differentiable function of noise", planned("continuous_control")),
]


def slug(heading: str) -> str:
    """The anchor MyST gives a heading (myst_heading_anchors)."""
    h = re.sub(r"[^\w\- ]", "", heading.lower().strip())
    return h.replace(" ", "-")


def toc_documents(root: Path = ROOT) -> set[str]:
    text = (root / "_toc.yml").read_text(encoding="utf-8")
    return set(re.findall(r"^\s*-?\s*(?:root|file):\s*['\"]?([^'\"\s#]+)", text, flags=re.M))


def link(where, available: set[str]) -> str:
    """MyST text of the link to where a term is defined ('' if none yet)."""
    if where[0] == "prf":
        return "{prf:ref}`" + where[1] + "`"
    if where[0] == "ref":
        return "{ref}`" + where[1] + "`"
    if where[0] == "sec":
        return f"[{where[2]}]({where[1]}.ipynb#{slug(where[2])})"
    if where[0] == "planned":
        return "{doc}`" + where[1] + "`" if "book/" + where[1] in available else ""
    raise ValueError(f"where: unknown kind {where[0]!r} in {where!r}")


def render(root: Path = ROOT) -> str:
    available = {d for d in toc_documents(root) if (root / d).with_suffix(".ipynb").is_file()}
    rows = sorted(TERMS, key=lambda t: t[0].lower())
    links = {t[0]: link(t[3], available) for t in rows}
    n_linked = sum(bool(v) for v in links.values())
    lines = [
        "<!-- Generated by tools/glossary.py when the book is built: edit the terms there. -->",
        "",
        "(glossary)=",
        "# Glossary · 术语表",
        "",
        "Every technical term of the book, in English and in Chinese, with where it is",
        "defined. The Chinese terms follow the Chinese edition of Zhao's *Mathematical",
        "Foundations of Reinforcement Learning* (《强化学习的数学原理》) and common usage in",
        "Chinese lecture notes, so that readers of both can move between this book and",
        "Chinese material. Both the English and the Chinese term are entries of the index.",
        "",
        "本书的全部专业术语（英文与中文），以及每个术语在书中定义的位置。中文术语以赵世钰",
        "《强化学习的数学原理》中文版及常用译法为准。",
        "",
        f"{len(rows)} terms; {n_linked} link to where they are defined. Terms of chapters",
        "in preparation are listed without a link until their chapter is part of the book.",
        "",
        "```{glossary}",
        "",
    ]
    for en, zh, meaning, _ in rows:
        where = links[en]
        tail = f" Defined in: {where}." if where else " (Chapter in preparation.)"
        lines += [en, zh, f"  {meaning}.{tail}", ""]
    lines += ["```", ""]
    return "\n".join(lines)


def write_glossary(root: Path = ROOT, target: str = "book/glossary.md") -> Path:
    path = root / target
    text = render(root)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"wrote {write_glossary(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT)}")
