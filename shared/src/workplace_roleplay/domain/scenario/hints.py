"""Graduated hints for a scenario turn: a nudge first, then a structure, then an example line.

Built from the scenario's own data (goal, learning points, tags, category), so they work offline and the
same state always gives the same hint. The level rises with each hint asked for during the same learner
turn and starts again at the nudge once the learner has spoken (ADR 0029).
"""

from __future__ import annotations

from dataclasses import dataclass

from workplace_roleplay.domain.scenario.model import Category, Scenario

LEVELS = ("nudge", "structure", "example")
LEVEL_LABELS = {"nudge": "ひと押し", "structure": "話の組み立て", "example": "例文"}

_REPORT_TAGS = {"報連相", "ミスの報告", "結論から", "再発防止"}
_REFUSE_TAGS = {"断り方", "優先順位"}
_LISTEN_TAGS = {"傾聴", "部下", "上司役", "指導", "教育係", "メンタルヘルス", "期待の伝え方", "ほめ方"}
_CONSULT_TAGS = {"相談", "キャリア"}

STRUCTURES = {
    "report": (
        "結論（何が起きたか）→ 事実（いつ・何を・どれだけ）→ 原因 →"
        " 対策（いつまでに何をするか）→ おわび、の順に短く話しましょう。"
    ),
    "refuse": (
        "お礼（声をかけてくれたこと）→ 断る理由を短く → 代わりにできること（時期や範囲）を提案、の順に話しましょう。"
    ),
    "listen": (
        "相手の言葉を受け止める → 気持ちや事情を尋ねる質問をひとつ → 自分の考えは最後に短く、の順に話しましょう。"
    ),
    "consult": ("相談したいことを一文で → 今わかっている事実 → 自分の考え → 相手に聞きたいこと、の順に話しましょう。"),
    "boundary": (
        "事実（いつ・どんな言動か）→ それをどう受け取ったか（Iメッ"
        "セージ）→ どうしてほしいか、の順に落ち着いて話しましょう。"
    ),
    "general": ("相手の言葉を受け止める → 自分の考えや事実を短く → 次の一歩を提案するか質問する、の順に話しましょう。"),
}
EXAMPLES = {
    "report": (
        "「ご報告があります。結論から申し上げると、（何が起きたか）。原因"
        "は（原因）で、（いつ）までに（対策）します。申し訳ありません。」"
    ),
    "refuse": (
        "「声をかけていただきありがとうございます。あいにく（理由）があり、"
        "今回はお引き受けが難しいです。（時期）でしたらお手伝いできます。」"
    ),
    "listen": ("「話してくれてありがとう。最近（様子）のように見えるけれど、何か困っていることはあるかな？」"),
    "consult": (
        "「今、少しよろしいでしょうか。（テーマ）について相談させてくだ"
        "さい。私としては（考え）と考えていますが、いかがでしょうか。」"
    ),
    "boundary": (
        "「先ほどの（言動）ですが、私は（受け取り方）と感じました"
        "。今後は（してほしいこと）にしていただけると助かります。」"
    ),
    "general": (
        "「ありがとうございます。（相手の言葉）ということですね。私は（考え）と考えていますが、いかがでしょうか。」"
    ),
}


@dataclass(frozen=True, slots=True)
class Hint:
    level: str
    label: str
    text: str


def kind_of(scenario: Scenario) -> str:
    """Which structure fits the scenario (by its tags and category)."""
    tags = set(scenario.tags)
    if tags & _REPORT_TAGS:
        return "report"
    if tags & _REFUSE_TAGS:
        return "refuse"
    if scenario.reverse_role or tags & _LISTEN_TAGS:
        return "listen"
    if tags & _CONSULT_TAGS:
        return "consult"
    if scenario.category is not Category.REGULAR:
        return "boundary"
    return "general"


def hint_for(scenario: Scenario, *, level_index: int, learner_turn: int) -> Hint:
    """The hint of ``level_index`` (0 nudge, 1 structure, 2 example) at the learner's ``learner_turn`` (0-based)."""
    level = LEVELS[min(level_index, len(LEVELS) - 1)]
    kind = kind_of(scenario)
    if level == "nudge":
        point = scenario.learning_points[learner_turn % len(scenario.learning_points)]
        text = f"目標は「{scenario.learner.goal}」。次の発言では「{point}」を意識してみましょう。"
    elif level == "structure":
        text = STRUCTURES[kind]
    else:
        text = f"たとえば、（ ）を自分の言葉で埋めて: {EXAMPLES[kind]}"
    return Hint(level, LEVEL_LABELS[level], text)
