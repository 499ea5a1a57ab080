package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// diagnosis is a main diagnosis with its DPC code and a typical length of
// stay. The DPC codes follow the 14-character shape (MDC, disease, then
// type, surgery, procedures, severity, with x where a position does not
// apply); they are plausible, not an official table.
type diagnosis struct {
	icd10, name, dpc string
	meanLOS          float64
	surgery          bool
}

var diagnoses = []diagnosis{
	{"I63.9", "脳梗塞", "010060x2990401", 16, false},
	{"J18.9", "肺炎", "040080x099x0xx", 13, false},
	{"C34.1", "肺の悪性腫瘍", "040040x9910x0x", 11, false},
	{"S72.0", "大腿骨頸部骨折", "160800xx01xxxx", 24, true},
	{"K80.2", "胆石症", "060330x02x0xxx", 6, true},
	{"I50.0", "心不全", "050130xx9900x0", 17, false},
	{"N39.0", "尿路感染症", "110310xx99xxxx", 11, false},
	{"K35.8", "急性虫垂炎", "060150xx03xxxx", 5, true},
}

type facility struct{ code, name string }

var facilities = []facility{
	{"131234561", "東京中央病院"}, {"271234562", "大阪北医療センター"}, {"231234563", "名古屋市民病院"},
	{"401234564", "福岡総合病院"}, {"011234565", "札幌記念病院"}, {"041234566", "仙台医療センター"},
}

// efItem is a claim line of the EF file.
type efItem struct {
	category, code, name, unit string
	points                     int
	daily                      bool
}

var efItems = []efItem{
	{"90", "190117710", "急性期一般入院料1", "日", 1650, true},
	{"21", "620000030", "アムロジピン錠5mg", "錠", 1, true},
	{"33", "640407021", "生理食塩液500mL", "瓶", 2, true},
	{"60", "160008010", "末梢血液一般検査", "回", 21, false},
	{"70", "170011810", "CT撮影", "回", 1000, false},
	{"13", "113001810", "薬剤管理指導料", "回", 325, false},
	{"40", "140000610", "創傷処置", "回", 52, false},
}

var surgery = efItem{"50", "150253010", "人工骨頭挿入術", "回", 19500, false}

// batch is one load of a hospital's monthly files, as the text fields of
// the CSV rows COPY would read.
type batch struct {
	id       int64
	facility facility
	form1    [][]string
	ef       [][]string
}

// Columns of the files, in order.
var (
	form1Columns = []string{"facility_code", "patient_id", "sex", "birth_date", "admission_date", "discharge_date",
		"admission_route", "discharge_dest", "main_icd10", "dpc_code", "height_cm", "weight_kg"}
	efColumns = []string{"facility_code", "patient_id", "admission_date", "data_category", "order_no", "line_no",
		"receipt_code", "item_name", "quantity", "unit", "points", "service_date", "ward", "department"}
)

// generator makes batches; its random source is seeded, so a run is
// repeatable.
type generator struct{ r *rand.Rand }

func newGenerator(seed uint64) *generator {
	return &generator{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func ymd(t time.Time) string { return t.Format("20060102") }

// batch generates admissions discharged in the month of end; bad is the
// number of malformed EF rows to slip in, as real files have them.
func (g *generator) batch(id int64, end time.Time, admissions, bad int) batch {
	f := facilities[g.r.IntN(len(facilities))]
	b := batch{id: id, facility: f}
	for i := 0; i < admissions; i++ {
		d := diagnoses[g.r.IntN(len(diagnoses))]
		los := max(1, int(math.Round(d.meanLOS*math.Exp(g.r.NormFloat64()*0.35))))
		discharge := end.AddDate(0, 0, -g.r.IntN(28))
		admit := discharge.AddDate(0, 0, -los)
		birth := admit.AddDate(-(20 + g.r.IntN(75)), -g.r.IntN(12), -g.r.IntN(28))
		patient := fmt.Sprintf("P%08X", g.r.Uint32())
		sex := []string{"1", "2"}[g.r.IntN(2)]
		b.form1 = append(b.form1, []string{f.code, patient, sex, ymd(birth), ymd(admit), ymd(discharge),
			[]string{"1", "2", "3"}[g.r.IntN(3)], []string{"1", "4", "5"}[g.r.IntN(3)], d.icd10, d.dpc,
			strconv.Itoa(145 + g.r.IntN(40)), strconv.Itoa(38 + g.r.IntN(50))})
		b.ef = append(b.ef, g.efLines(f, patient, admit, los, d)...)
	}
	for i := 0; i < bad && len(b.ef) > 0; i++ {
		j := g.r.IntN(len(b.ef))
		b.ef[j] = g.spoil(b.ef[j])
	}
	return b
}

func (g *generator) efLines(f facility, patient string, admit time.Time, los int, d diagnosis) [][]string {
	var out [][]string
	order := 1
	add := func(it efItem, day time.Time, qty int) {
		out = append(out, []string{f.code, patient, ymd(admit), it.category, strconv.Itoa(order), "1", it.code, it.name,
			strconv.Itoa(qty), it.unit, strconv.Itoa(it.points * qty), ymd(day), "W" + strconv.Itoa(1+g.r.IntN(6)), "内科"})
		order++
	}
	for day := 0; day < los; day++ {
		at := admit.AddDate(0, 0, day)
		for _, it := range efItems {
			if it.daily || g.r.IntN(6) == 0 {
				add(it, at, 1+g.r.IntN(2))
			}
		}
		if d.surgery && day == 1 {
			add(surgery, at, 1)
		}
	}
	return out
}

// spoil makes a row malformed in one of the ways real files are: "O" for
// 0 in a number, a date that does not exist, a missing column.
func (g *generator) spoil(row []string) []string {
	row = append([]string(nil), row...)
	switch g.r.IntN(3) {
	case 0:
		row[10] = "O"
	case 1:
		row[11] = "20261131"
	default:
		row = row[:len(row)-1]
	}
	return row
}
