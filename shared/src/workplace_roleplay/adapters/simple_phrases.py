"""The simple-response mode's chat and watch phrases (data of ``simple_model.py``).

Worded per voice (how the partner addresses the learner: a boss or senior speaks casually-polite, a
junior or client formally) and per time of day (a boss never says こんにちは at 朝の出社時). Topics are
noun phrases without のこと, so templates can add their own particle (no 「最近のことのこと」).
``tests/unit/adapters/test_simple_phrases.py`` renders every template for every chat setting and checks
a list of known-bad patterns.
"""

from __future__ import annotations

from typing import Literal

Voice = Literal["superior", "subordinate", "peer", "client"]
TimeOfDay = Literal["morning", "day", "evening"]
Kind = Literal["apology", "thanks", "greeting", "refusal", "report", "question", "default"]

VOICE_OF_PARTNER: dict[str, Voice] = {
    "boss": "superior",
    "上司": "superior",
    "senior": "superior",
    "先輩": "superior",
    "colleague": "peer",
    "同僚": "peer",
    "junior": "subordinate",
    "後輩": "subordinate",
    "client": "client",
    "取引先": "client",
}
TIME_OF_SITUATION: dict[str, TimeOfDay] = {
    "morning": "morning",
    "lunch": "day",
    "break": "day",
    "evening": "evening",
    "party": "evening",
}
# Chat topic codes as noun phrases (no trailing のこと).
TOPIC_PHRASES: dict[str, str] = {
    "general": "最近の出来事",
    "hobby": "趣味",
    "news": "最近のニュース",
    "food": "食事",
    "work": "仕事",
}
DEFAULT_TOPIC = "仕事"

GREETINGS: dict[TimeOfDay, dict[Voice, str]] = {
    "morning": {
        "superior": "おはよう。",
        "peer": "おはよう。",
        "subordinate": "おはようございます。",
        "client": "おはようございます。",
    },
    "day": {
        "superior": "お疲れさま。",
        "peer": "お疲れさま。",
        "subordinate": "お疲れさまです。",
        "client": "お世話になっております。",
    },
    "evening": {
        "superior": "お疲れさま。",
        "peer": "お疲れさま。",
        "subordinate": "お疲れさまです。",
        "client": "お疲れさまです。",
    },
}
# The partner answering the learner's greeting, by time of day.
GREETING_REPLIES: dict[TimeOfDay, dict[Voice, str]] = {
    "morning": {
        "superior": "おはよう。今日も一日よろしくね。",
        "peer": "おはよう。今日も一日がんばろう。",
        "subordinate": "おはようございます。今日もよろしくお願いします。",
        "client": "おはようございます。本日もよろしくお願いいたします。",
    },
    "day": {
        "superior": "お疲れさま。少しはひと息つけているかな。",
        "peer": "お疲れさま。ちょっとひと休みしようか。",
        "subordinate": "お疲れさまです。少しひと息つけましたか。",
        "client": "お疲れさまです。いつもお世話になっております。",
    },
    "evening": {
        "superior": "お疲れさま。今日も一日ありがとう。",
        "peer": "お疲れさま。今日も長かったね。",
        "subordinate": "お疲れさまです。今日もありがとうございました。",
        "client": "お疲れさまです。本日もありがとうございました。",
    },
}
# Openings: {greeting} from GREETINGS, {topic} a noun phrase.
OPENINGS: dict[Voice, tuple[str, ...]] = {
    "superior": (
        "{greeting}ちょっといいかな。{topic}の話でも少ししようか。",
        "{greeting}{topic}について、何か話したいことはある？",
    ),
    "peer": ("{greeting}{topic}の話、ちょっとしない？", "{greeting}ねえ、{topic}について聞いてほしい話があるんだ。"),
    "subordinate": (
        "{greeting}あの、{topic}について少しお話ししてもいいですか。",
        "{greeting}{topic}について、伺ってみたいことがあるんです。",
    ),
    "client": (
        "{greeting}{topic}について、少しお話しできればと思いまして。",
        "{greeting}よろしければ、{topic}についてお話を伺えますか。",
    ),
}
REPLIES: dict[Voice, dict[Kind, tuple[str, ...]]] = {
    "superior": {
        "apology": (
            "わかった。まずは何が起きたのか、順番に教えてくれるかな。",
            "正直に言ってくれて助かるよ。影響の範囲と次の対応を教えて。",
        ),
        "thanks": (
            "どういたしまして。{topic}について、ほかに気になることはある？",
            "役に立ててよかった。このあとの進め方も確認しておこうか。",
        ),
        "refusal": (
            "そうか、事情はわかった。代わりにできそうなことはあるかな。",
            "言ってくれてありがとう。いつ頃なら対応できそう？",
        ),
        "report": (
            "共有ありがとう。今わかっている事実から順に教えてくれる？",
            "なるほど。まず結論と、こちらで手伝えることを教えて。",
        ),
        "question": (
            "いい質問だね。君ならどうするのがいいと思う？",
            "状況によるけど、まずは関係する人に相談してみるといいよ。",
        ),
        "default": (
            "なるほど、そうなんだ。もう少し詳しく聞かせてくれる？",
            "{topic}について、君はどう進めたいと考えている？",
            "そうなんだね。そのとき、どう感じた？",
        ),
    },
    "peer": {
        "apology": ("ううん、気にしないで。状況を聞かせてくれる？", "正直に言ってくれてありがとう。一緒に考えようか。"),
        "thanks": ("どういたしまして。{topic}で、ほかにも気になることある？", "お役に立ててよかった。"),
        "refusal": (
            "そっか、わかった。じゃあ、別の方法を考えよう。",
            "正直に言ってくれてありがとう。いつなら大丈夫そう？",
        ),
        "report": ("教えてくれてありがとう。何があったか、順番に聞かせて。", "なるほどね。手伝えることはある？"),
        "question": (
            "うーん、どうだろう。そっちはどう思う？",
            "場合によるけど、まず詳しい人に聞いてみるのがいいかも。",
        ),
        "default": (
            "へえ、そうなんだ。もう少し詳しく聞かせて。",
            "{topic}について、どう思ってるの？",
            "そうなんだね。そのとき、どんな気持ちだった？",
        ),
    },
    "subordinate": {
        "apology": ("いえ、大丈夫です。状況を伺ってもいいですか。", "正直に言ってくださってありがとうございます。"),
        "thanks": (
            "とんでもないです。{topic}について、ほかにもお手伝いできることはありますか。",
            "お役に立ててよかったです。",
        ),
        "refusal": (
            "そうですか、わかりました。別の方法を考えてみます。",
            "承知しました。いつ頃ならよろしいでしょうか。",
        ),
        "report": (
            "共有していただきありがとうございます。詳しく伺ってもいいですか。",
            "わかりました。私にできることはありますか。",
        ),
        "question": ("そうですね……少し考えてみてもいいですか。", "私なら、まず詳しい方に相談してみると思います。"),
        "default": (
            "なるほど、そうなんですね。もう少し詳しく伺ってもいいですか。",
            "{topic}について、どうお考えですか。",
            "そうなんですね。そのとき、どう感じられましたか。",
        ),
    },
    "client": {
        "apology": (
            "ご丁寧にありがとうございます。状況を伺ってもよろしいですか。",
            "ご連絡いただき助かります。今後の対応を教えていただけますか。",
        ),
        "thanks": (
            "こちらこそ、ありがとうございます。{topic}について、ほかにご不明な点はございますか。",
            "お役に立てたのでしたら幸いです。",
        ),
        "refusal": (
            "承知いたしました。代わりの案はございますか。",
            "ご事情はよくわかりました。時期を改めてご相談できますか。",
        ),
        "report": (
            "ご共有ありがとうございます。事実関係から順に伺えますか。",
            "承知しました。弊社で確認すべき点はございますか。",
        ),
        "question": ("そうですね、私どもでも少し考えてみます。", "社内でも確認して、改めてご連絡いたします。"),
        "default": (
            "なるほど、そうでしたか。もう少し詳しく伺えますか。",
            "{topic}について、どのようにお考えでしょうか。",
            "さようでございますか。ありがとうございます。",
        ),
    },
}
# Watch mode: {other} is the other speaker's name without さん (the template adds it), {topic} a noun phrase.
# Line i of the dialogue says WATCH_LINES[i % len]: an even count, so with two speakers taking turns a line
# that comes round again is said by the same speaker (a "who said it?" quiz stays unambiguous).
WATCH_LINES = (
    "{other}さん、{topic}について少し相談してもいいですか。",
    "はい、もちろんです。{topic}のどのあたりが気になっていますか。",
    "進め方を決める前に、{other}さんの意見を聞いておきたくて。",
    "なるほど。私は、まず関係者に共有してから進めるのがいいと思います。",
    "それなら、今週中に共有の場を設けましょうか。",
    "いいですね。必要な資料は私のほうで用意しておきます。",
    "助かります。気になる点があれば、早めに教えてください。",
    "わかりました。期限はいつまでにしましょうか。",
    "金曜日までに一度まとめて、{other}さんに見てもらえますか。",
    "承知しました。金曜日の午後に確認しますね。",
    "ありがとうございます。では、その方向で準備してみます。",
    "こちらこそ、声をかけてもらえてよかったです。",
)
ANALYSIS = "簡易応答モードのため、この発言の詳しい分析は行っていません。"
