package web

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/dpc-learning/dpcops/internal/capacity"
)

// The engines write their reasons in English, in fixed forms: an alarm's
// as CloudWatch's StateReason (notifications and the API carry them as
// CloudWatch would), a maintenance run's and a capacity note's as short
// phrases. A Japanese page says them in Japanese, phrase by phrase; a form
// it does not know stays as written rather than be half translated.

// phrase is one fixed form and its Japanese.
type phrase struct {
	re *regexp.Regexp
	ja string
}

func phrases(pairs ...string) []phrase {
	out := make([]phrase, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, phrase{regexp.MustCompile(pairs[i]), pairs[i+1]})
	}
	return out
}

// comparisonsJA say "was [not] <comparison> the threshold (X)".
var comparisonsJA = map[string][2]string{
	"greater than":             {"より大きい値でした", "より大きくありませんでした"},
	"greater than or equal to": {"以上でした", "以上ではありませんでした"},
	"less than":                {"より小さい値でした", "より小さくありませんでした"},
	"less than or equal to":    {"以下でした", "以下ではありませんでした"},
}

var (
	thresholdRE = regexp.MustCompile(`^Threshold Crossed: (?:1 datapoint|(\d+) out of the last (\d+) datapoints)( \[[^\]]*\])? (?:was|were) (not )?(greater than or equal to|greater than|less than or equal to|less than) the threshold \(([^)]*)\)(.*)\.$`)
	// Qualifiers after the threshold, and the alarm reasons of other forms.
	alarmPhrases = phrases(
		`^ \((\d+) missing datapoints? (?:was|were) treated as \[(\w+)\]\)`, "（欠損 $1 点を [$2] として扱いました）",
		` \(minimum (\d+) datapoints? for (\w+) -> (\w+) transition\)`, "（$2 → $3 の遷移には最低 $1 点が必要）",
		` \((\d+) of (\d+) datapoints missing; the oldest breaching datapoint is at least (\d+) periods old\)`, "（$2 点中 $1 点が欠損。超過した最も古い点は $3 期間以上前）",
		` \((\d+) of (\d+) datapoints missing\)`, "（$2 点中 $1 点が欠損）",
		`^Insufficient Data: (\d+) datapoints? (?:was|were) unknown\.$`, "データ不足: $1 点のデータポイントが不明です。",
		`^Threshold Crossed: no datapoints were received for (\d+) periods and (\d+) missing datapoints? (?:was|were) treated as \[(\w+)\]\.$`, "閾値判定: $1 期間データポイントがなく、欠損 $2 点を [$3] として扱いました。",
	)
	// The reasons of maintenance runs and the notes of the capacity report.
	opsPhrases = phrases(
		`dead rows (\S+) % ≥ (\S+) % \((\d+) dead of (\d+)\)`, "不要行 $1 % ≥ $2 %（$4 行中 $3 行）",
		`^never analyzed$`, "ANALYZE されたことがない",
		`(\d+) rows modified since the last ANALYZE: (\S+) % of (\d+) live rows ≥ (\S+) %`, "前回の ANALYZE 以降 $1 行を変更: 有効行 $3 行の $2 % ≥ $4 %",
		`(\d+) rows modified since the last ANALYZE ≥ (\d+)`, "前回の ANALYZE 以降 $1 行を変更 ≥ $2",
		`(\d+) rows loaded since the last ANALYZE ≥ (\d+)`, "前回の ANALYZE 以降 $1 行をロード ≥ $2",
		`unused (\S+) % ≥ (\S+) %`, "未使用 $1 % ≥ $2 %",
		`unsorted (\S+) % > (\S+) %`, "未ソート $1 % > $2 %",
		`^monthly encoding review$`, "月次のエンコード見直し",
		`; plain VACUUM: VACUUM FULL needs allow_exclusive_lock`, "。通常の VACUUM で実行（VACUUM FULL には allow_exclusive_lock が必要）",
		`; plain VACUUM: PostgreSQL has no (\S+)`, "。通常の VACUUM で実行（PostgreSQL に $1 はありません）",
		`deep copy recommended instead of VACUUM: (\S+) MB and (\S+) % unsorted \(≥ (\S+) MB and ≥ (\S+) %\); `, "VACUUM ではなくディープコピーを推奨: $1 MB、未ソート $2 %（$3 MB 以上かつ $4 % 以上）。",
		` \(when\)$`, "（when 条件）",
		`^advice for people: nothing to run$`, "人が判断する助言のため、実行するものはありません",
		`^PostgreSQL has no RPU: a backend running a query stands for one RPU, max_rpu is read as that many busy backends, and the costs price a backend-hour as an RPU-hour$`,
		"PostgreSQL に RPU はありません。クエリを実行中のバックエンド 1 つを 1 RPU とみなし、max_rpu を同時に動くバックエンド数として読み、費用はバックエンド時間を RPU 時間の単価で計算しています",
		`^no data before (\S+) \(store retention or when collection began\): (\S+) RPU-hours estimated for that time$`, "$1 より前のデータがありません（ストアの保持期間、または収集開始前）。その期間は $2 RPU 時間と推定しました",
		`^stored (\S+) and (\S+)`, "保存済みの $1 と $2",
		`^stored (\S+)`, "保存済みの $1",
		`; SYS_SERVERLESS_USAGE from (\S+)`, "。$1 以降は SYS_SERVERLESS_USAGE",
		`^none: no compute datapoints stored this month \(dpcops serve or collect --data stores them\)$`, "なし: 今月の計算資源のデータポイントが保存されていません（dpcops serve または collect --data が保存します）",
		`^silenced by #(\d+); sent at its end$`, "サイレンス #$1 により保留（終了時に送信）",
		`^silenced by #(\d+); dropped at its end$`, "サイレンス #$1 により保留（終了時に破棄）",
		`^silenced by #(\d+)$`, "サイレンス #$1 により保留",
		`^inhibited by (\S+); sent at its end$`, "$1 により抑制（解除時に送信）",
		`^inhibited by (\S+); dropped at its end$`, "$1 により抑制（解除時に破棄）",
		`^inhibited by (\S+)$`, "$1 により抑制",
		`^expired at (\S+)$`, "期限切れ（$1）",
		`^retrying the lower that failed$`, "失敗した引き下げの再試行",
		`^pipeline run (\S+) ended: (\S+)$`, "パイプライン実行 $1 が終了: $2",
	)
)

// sayReason says an alarm's reason in lang.
func sayReason(lang, s string) string {
	if lang != "ja" {
		return s
	}
	if m := thresholdRE.FindStringSubmatch(s); m != nil {
		points := "データポイント 1 点"
		if m[1] != "" {
			points = "直近 " + m[2] + " 点中 " + m[1] + " 点"
		}
		verdict := comparisonsJA[m[5]][0]
		if m[4] != "" {
			verdict = comparisonsJA[m[5]][1]
		}
		rest := m[7]
		for _, p := range alarmPhrases[:4] {
			rest = p.re.ReplaceAllString(rest, p.ja)
		}
		return "閾値超過の判定: " + points + m[3] + " が閾値 (" + m[6] + ") " + verdict + rest + "。"
	}
	for _, p := range alarmPhrases[4:] {
		if p.re.MatchString(s) {
			return p.re.ReplaceAllString(s, p.ja)
		}
	}
	return s
}

// sayPhrases says a maintenance reason or a capacity note in lang, each of
// its "; "-joined parts on its own.
func sayPhrases(lang, s string) string {
	if lang != "ja" {
		return s
	}
	for _, p := range opsPhrases {
		s = p.re.ReplaceAllString(s, p.ja)
	}
	return strings.ReplaceAll(s, "; ", "。")
}

// sayAdvice says the capacity advice in lang, from its figures.
func sayAdvice(lang string, r *capacity.Report) string {
	a := r.Advice
	if lang != "ja" {
		return a.Text
	}
	queued := ""
	if a.Queued {
		queued = "。クエリの待ちも発生しています"
	}
	switch a.Verdict {
	case "unknown":
		return "今月は計算資源の使用が記録されていないため、max_rpu を見積もれません"
	case "raise":
		return fmt.Sprintf("稼働時間の %s %% で max_rpu %d に達していました（見直し基準 %s %%）%s。%d に引き上げると、今月の費用は %s〜%s（現在 %s）になります",
			num(r.AtMaxPercent), r.MaxRPU, num(a.ReviewAt), queued, a.MaxRPU, money(r.Cost), money(a.CostHigh), money(r.Cost))
	case "lower":
		return fmt.Sprintf("使用のピークは max_rpu %d に対し %s でした。%d で今月の処理は足り、1 時間あたりの費用の上限は %s から %s に下がります（同じ処理の費用は同じです）",
			r.MaxRPU, num(r.PeakRPU), a.MaxRPU, money(float64(r.MaxRPU)*r.PricePerRPUHour), money(float64(a.MaxRPU)*r.PricePerRPUHour))
	}
	return fmt.Sprintf("max_rpu %d は適切です: 上限に達していたのは稼働時間の %s %%（見直し基準 %s %%）、ピークは %s%s",
		r.MaxRPU, num(r.AtMaxPercent), num(a.ReviewAt), num(r.PeakRPU), queued)
}

func money(v float64) string { return fmt.Sprintf("$%.2f", v) }
