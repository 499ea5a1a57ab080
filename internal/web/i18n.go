package web

import "net/http"

// labels are the UI's words in English and Japanese. Names of metrics and
// alarms are shown as the spec gives them, in both.
var labels = map[string]map[string]string{
	"en": {
		"dashboard": "Dashboard", "alarms": "Alarms", "health": "Collectors", "notifications": "Notifications",
		"maintenance": "Maintenance", "capacity": "Capacity", "incidents": "Incidents",
		"range": "Range", "custom": "Custom", "from": "From", "to": "To", "apply": "Apply",
		"refresh": "Auto-refresh", "off": "off", "nodata": "No data", "state": "State", "reason": "Reason",
		"updated": "Updated", "severity": "Severity", "condition": "Condition", "history": "History",
		"transition": "Transition", "time": "Time", "collector": "Collector", "lastrun": "Last run",
		"lastsuccess": "Last success", "lasterror": "Last error", "duration": "Duration", "statements": "SQL statements",
		"wakeups": "Wake-ups", "datapoints": "Datapoints", "never": "never", "message": "Message",
		"engine": "Engine", "notyet": "Not available yet: this part of dpcops is still being built.",
		"episode": "Episode", "evaluated": "Evaluated", "error": "Error", "capacityline": "capacity",
		"opened": "Opened", "closed": "Closed", "open": "open", "timeline": "Timeline",
		"all": "all", "channel": "Channel", "attempts": "Attempts", "answer": "Receiver's answer", "retry": "Retry",
		"resent": "resent", "inbox": "Inbox",
	},
	"ja": {
		"dashboard": "ダッシュボード", "alarms": "アラーム", "health": "コレクター", "notifications": "通知",
		"maintenance": "メンテナンス", "capacity": "キャパシティ", "incidents": "インシデント",
		"range": "期間", "custom": "指定", "from": "開始", "to": "終了", "apply": "適用",
		"refresh": "自動更新", "off": "なし", "nodata": "データなし", "state": "状態", "reason": "理由",
		"updated": "更新", "severity": "重大度", "condition": "条件", "history": "履歴",
		"transition": "遷移", "time": "時刻", "collector": "コレクター", "lastrun": "最終実行",
		"lastsuccess": "最終成功", "lasterror": "最終エラー", "duration": "所要時間", "statements": "SQL 文",
		"wakeups": "起動回数", "datapoints": "データポイント", "never": "なし", "message": "メッセージ",
		"engine": "エンジン", "notyet": "未提供: dpcops のこの部分は開発中です。",
		"episode": "エピソード", "evaluated": "評価", "error": "エラー", "capacityline": "上限",
		"opened": "発生", "closed": "解決", "open": "対応中", "timeline": "タイムライン",
		"all": "すべて", "channel": "チャネル", "attempts": "試行", "answer": "受信側の応答", "retry": "再送",
		"resent": "再送信", "inbox": "受信箱",
	},
}

// language picks the UI language: ?lang= (remembered in a cookie), else
// the cookie, else English.
func language(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); labels[l] != nil {
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: l, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
		return l
	}
	if c, err := r.Cookie("lang"); err == nil && labels[c.Value] != nil {
		return c.Value
	}
	return "en"
}
