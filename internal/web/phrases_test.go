package web

import "testing"

// TestReasonsInJapanese: each form of an alarm's reason is said in
// Japanese on a Japanese page, its figures kept; English pages and forms
// the catalogue does not know keep the text as written.
func TestReasonsInJapanese(t *testing.T) {
	for in, want := range map[string]string{
		"Threshold Crossed: 1 datapoint [95.0 (27/11/26 03:05:00)] was greater than the threshold (90.0).":                                                                                                              "閾値超過の判定: データポイント 1 点 [95.0 (27/11/26 03:05:00)] が閾値 (90.0) より大きい値でした。",
		"Threshold Crossed: 2 out of the last 3 datapoints [1.0 (27/11/26 03:05:00), 2.0 (27/11/26 03:04:00)] were not greater than or equal to the threshold (5.0) (minimum 2 datapoints for ALARM -> OK transition).": "閾値超過の判定: 直近 3 点中 2 点 [1.0 (27/11/26 03:05:00), 2.0 (27/11/26 03:04:00)] が閾値 (5.0) 以上ではありませんでした（ALARM → OK の遷移には最低 2 点が必要）。",
		"Threshold Crossed: 3 out of the last 3 datapoints [1.0 (27/11/26 03:05:00)] were less than the threshold (5.0) (2 missing datapoints were treated as [Breaching]).":                                            "閾値超過の判定: 直近 3 点中 3 点 [1.0 (27/11/26 03:05:00)] が閾値 (5.0) より小さい値でした（欠損 2 点を [Breaching] として扱いました）。",
		"Insufficient Data: 5 datapoints were unknown.":                                                                      "データ不足: 5 点のデータポイントが不明です。",
		"Threshold Crossed: no datapoints were received for 5 periods and 5 missing datapoints were treated as [Breaching].": "閾値判定: 5 期間データポイントがなく、欠損 5 点を [Breaching] として扱いました。",
		"set by hand": "set by hand",
	} {
		if got := sayReason("ja", in); got != want {
			t.Errorf("sayReason(%q)\n got %q\nwant %q", in, got, want)
		}
		if got := sayReason("en", in); got != in {
			t.Errorf("English changed %q to %q", in, got)
		}
	}
}

// TestMaintenanceReasonsInJapanese: the reasons maintenance runs record,
// joined with "; ", are said phrase by phrase.
func TestMaintenanceReasonsInJapanese(t *testing.T) {
	for in, want := range map[string]string{
		"dead rows 31.2 % ≥ 10 % (312 dead of 1000); plain VACUUM: VACUUM FULL needs allow_exclusive_lock": "不要行 31.2 % ≥ 10 %（1000 行中 312 行）。通常の VACUUM で実行（VACUUM FULL には allow_exclusive_lock が必要）",
		"unused 30 % ≥ 10 %; unsorted 12.5 % > 10 %":                                                       "未使用 30 % ≥ 10 %。未ソート 12.5 % > 10 %",
		"never analyzed": "ANALYZE されたことがない",
		"1200 rows modified since the last ANALYZE: 12 % of 10000 live rows ≥ 10 %":              "前回の ANALYZE 以降 1200 行を変更: 有効行 10000 行の 12 % ≥ 10 %",
		"pipeline run 42 ended: succeeded":                                                       "パイプライン実行 42 が終了: succeeded",
		"stored ComputeSeconds and RPUPerMinute; SYS_SERVERLESS_USAGE from 2026-12-01T00:00:00Z": "保存済みの ComputeSeconds と RPUPerMinute。2026-12-01T00:00:00Z 以降は SYS_SERVERLESS_USAGE",
	} {
		if got := sayPhrases("ja", in); got != want {
			t.Errorf("sayPhrases(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}
