package web

import (
	"fmt"
	"net/http"
)

// labels are the UI's words in English and Japanese. Names of metrics and
// alarms are shown as the spec gives them, in both.
var labels = map[string]map[string]string{
	"en": {
		"dashboard": "Dashboard", "alarms": "Alarms", "health": "Collectors", "notifications": "Notifications",
		"silences": "Silences", "current": "current", "matchers": "Matches", "starts": "Starts", "ends": "Ends",
		"comment": "Comment", "expire": "Expire", "addsilence": "Add a silence", "silencefor": "For", "add": "Add",
		"maintenance": "Maintenance", "capacity": "Capacity", "incidents": "Incidents",
		"range": "Range", "custom": "Custom", "from": "From", "to": "To", "apply": "Apply",
		"refresh": "Auto-refresh", "off": "off", "nodata": "No data", "state": "State", "reason": "Reason",
		"updated": "Updated", "severity": "Severity", "condition": "Condition", "history": "History",
		"transition": "Transition", "time": "Time", "collector": "Collector", "lastrun": "Last run",
		"lastsuccess": "Last success", "lasterror": "Last error", "duration": "Duration", "statements": "SQL statements",
		"wakeups": "Wake-ups", "datapoints": "Datapoints", "never": "never", "message": "Message",
		"engine":  "Engine",
		"episode": "Episode", "evaluated": "Evaluated", "error": "Error", "capacityline": "capacity",
		"opened": "Opened", "closed": "Closed", "open": "open", "timeline": "Timeline",
		"all": "all", "channel": "Channel", "attempts": "Attempts", "answer": "Receiver's answer", "retry": "Retry",
		"resent": "resent", "inbox": "Inbox",
		"maintoff": "Maintenance and query monitoring are off: they need warehouse.dsn.", "jobs": "Jobs", "job": "Job",
		"action": "Action", "mode": "Mode", "when": "When", "next": "Next", "after": "after %s", "runs": "Runs",
		"target": "Table", "statement": "Statement", "outcome": "Outcome", "qmr": "Query monitoring", "rule": "Rule",
		"user": "User", "query": "Query", "used": "used", "forecast": "forecast", "limit": "Usage limit", "hours": "hours",
		"atmax": "Busy time at max", "source": "Source", "scenarios": "Other max RPU", "atcap": "Time at that max",
		"delay": "Work delayed", "cost": "Cost", "measured": "measured", "estimated": "estimated (before the data begins)",
		"leases": "Capacity leases", "raised": "Raised", "outsideatnormal": "Busy time outside leases at normal max",
		"alwaysbatch": "Keeping the batch max always", "insteadof": "instead of", "pipeline": "Pipeline",
		"signin": "Sign in", "signout": "Sign out", "token": "Token",
		"store": "Store", "replica": "This serve", "leading": "leading", "following": "following", "epoch": "epoch",
		"noleader":   "no serve leads: nothing is collected or evaluated (what was enqueued is still delivered)",
		"badtoken":   "That is not the token.",
		"signinwhy":  "Actions (re-running the pipeline, retrying a delivery, cancelling a query) need the token: serve.token, or the one dpcops made at first start in",
		"actionsoff": "Actions are off: no token is configured.",
	},
	"ja": {
		"dashboard": "ダッシュボード", "alarms": "アラーム", "health": "コレクター", "notifications": "通知",
		"silences": "サイレンス", "current": "有効なもの", "matchers": "対象", "starts": "開始", "ends": "終了",
		"comment": "理由", "expire": "終了する", "addsilence": "サイレンスを追加", "silencefor": "期間", "add": "追加",
		"maintenance": "メンテナンス", "capacity": "キャパシティ", "incidents": "インシデント",
		"range": "期間", "custom": "指定", "from": "開始", "to": "終了", "apply": "適用",
		"refresh": "自動更新", "off": "なし", "nodata": "データなし", "state": "状態", "reason": "理由",
		"updated": "更新", "severity": "重大度", "condition": "条件", "history": "履歴",
		"transition": "遷移", "time": "時刻", "collector": "コレクター", "lastrun": "最終実行",
		"lastsuccess": "最終成功", "lasterror": "最終エラー", "duration": "所要時間", "statements": "SQL 文",
		"wakeups": "起動回数", "datapoints": "データポイント", "never": "なし", "message": "メッセージ",
		"engine":  "エンジン",
		"episode": "エピソード", "evaluated": "評価", "error": "エラー", "capacityline": "上限",
		"opened": "発生", "closed": "解決", "open": "対応中", "timeline": "タイムライン",
		"all": "すべて", "channel": "チャネル", "attempts": "試行", "answer": "受信側の応答", "retry": "再送",
		"resent": "再送信", "inbox": "受信箱",
		"maintoff": "メンテナンスとクエリ監視は無効です（warehouse.dsn が必要）。", "jobs": "ジョブ", "job": "ジョブ",
		"action": "処理", "mode": "モード", "when": "条件", "next": "次回", "after": "%s の後", "runs": "実行履歴",
		"target": "テーブル", "statement": "SQL", "outcome": "結果", "qmr": "クエリ監視", "rule": "ルール",
		"user": "ユーザー", "query": "クエリ", "used": "使用", "forecast": "予測", "limit": "使用量上限", "hours": "時間",
		"atmax": "上限到達時間の割合", "source": "データ元", "scenarios": "他の最大 RPU", "atcap": "上限到達",
		"delay": "遅延", "cost": "費用", "measured": "（実測）", "estimated": "（データ開始前の推定）",
		"leases": "キャパシティリース", "raised": "引き上げ", "outsideatnormal": "リース外で通常上限に達した時間の割合",
		"alwaysbatch": "常にバッチ上限にした場合", "insteadof": "通常は", "pipeline": "パイプライン",
		"signin": "サインイン", "signout": "サインアウト", "token": "トークン",
		"store": "ストア", "replica": "この serve", "leading": "リーダー", "following": "フォロワー。リーダーは", "epoch": "エポック",
		"noleader":   "リーダーがいません：収集と評価が止まっています（登録済みの通知は配信されます）",
		"badtoken":   "トークンが違います。",
		"signinwhy":  "操作（パイプライン再実行・通知の再送・クエリの取り消し）にはトークンが必要です。serve.token、または初回起動時に dpcops が作成した次のファイルにあります:",
		"actionsoff": "トークンが設定されていないため、操作は無効です。",
	},
}

// enums are the values dpcops' engines store and the pages show
// (severities, states, kinds, outcomes, actions), in the languages that
// say them otherwise; English shows them as stored. Names from the spec
// (alarms, metrics, jobs, channels) are never translated.
var enums = map[string]map[string]string{
	"ja": {
		// Severities.
		"critical": "重大", "error": "エラー", "warning": "警告", "info": "情報",
		// Alarm states (OK stays OK, as in the CloudWatch console).
		"ALARM": "アラーム", "INSUFFICIENT_DATA": "データ不足",
		// Delivery states and kinds.
		"pending": "待機中", "sending": "送信中", "silenced": "サイレンス中", "inhibited": "抑制中",
		"active": "有効", "ended": "終了", "sent": "送信済み", "failed": "失敗", "expired": "期限切れ",
		"trigger": "発報", "resolve": "解決", "repeat": "再通知", "notice": "お知らせ",
		// Incident timeline.
		"transition": "遷移", "notification": "通知", "action": "対応", "note": "メモ", "maintenance": "メンテナンス",
		// Maintenance and query monitoring.
		"analyze": "ANALYZE", "vacuum": "VACUUM", "vacuum_full": "VACUUM FULL", "vacuum_sort_only": "VACUUM SORT ONLY",
		"vacuum_delete_only": "VACUUM DELETE ONLY", "analyze_compression": "ANALYZE COMPRESSION", "capacity_review": "キャパシティ見直し",
		"auto": "自動", "manual": "手動（推奨のみ）",
		"planned": "予定", "running": "実行中", "succeeded": "成功", "skipped": "スキップ", "missed": "見送り", "cancelled": "取り消し",
		"acting": "処理中", "logged": "記録", "notified": "通知済み", "gone": "終了済み",
		"log": "記録", "notify": "通知", "abort": "中止",
		// Step Functions execution states (pipeline runs on the charts).
		"SUCCEEDED": "成功", "FAILED": "失敗", "RUNNING": "実行中", "TIMED_OUT": "タイムアウト", "ABORTED": "中止",
		// Sources of Latest errors.
		"postgres": "PostgreSQL ログ", "query": "失敗したクエリ", "copy": "COPY の拒否行",
		// Capacity advice.
		"raise": "引き上げ", "lower": "引き下げ", "keep": "維持", "unknown": "判断不可",
	},
}

// translateEnum shows a stored value in one language.
func translateEnum(words map[string]string) func(any) string {
	return func(v any) string {
		s := fmt.Sprint(v)
		if t, ok := words[s]; ok {
			return t
		}
		return s
	}
}

// language picks the UI language (pageLanguage) and remembers a ?lang= in
// a cookie. The page's render calls it, once.
func language(w http.ResponseWriter, r *http.Request) string {
	l := pageLanguage(r)
	if r.URL.Query().Get("lang") == l {
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: l, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
	}
	return l
}

// pageLanguage is the language a request asks for: ?lang=, else the
// cookie, else English.
func pageLanguage(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); labels[l] != nil {
		return l
	}
	if c, err := r.Cookie("lang"); err == nil && labels[c.Value] != nil {
		return c.Value
	}
	return "en"
}

// sayEnum words stored values in the request's language, for what a
// handler draws itself (charts' tooltips).
func sayEnum(r *http.Request) func(any) string { return translateEnum(enums[pageLanguage(r)]) }
