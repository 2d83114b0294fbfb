package scoring

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// Explain writes, in zh-CN plain text, how a company's grade came about: from each estate's
// ratings and disclosures through the weighted means, the weights, the credit records, the clamp
// and the rounding, to the score, the grade, the list and the rank (SCORING.md §9). rs must be the
// ruleset res was scored with.
//
// Intermediate numbers are shown to four decimals, cut off and marked "…" when more digits
// follow; the computation itself is exact. A renderer that wants another layout (HTML) finds the
// same numbers in Grade, EstateDetail and their Exact fields.
func Explain(res *Result, rs *Ruleset, companyID string) (string, error) {
	if res.RulesetHash != rs.Hash() {
		return "", fmt.Errorf("scoring: the result was scored with %s (hash %.12s), not with %s (hash %.12s)",
			res.Ruleset, res.RulesetHash, rs.Ref(), rs.Hash())
	}
	g := res.Grade(companyID)
	if g == nil {
		return "", fmt.Errorf("scoring: company %q was not graded in period %s (it manages no estate, or does not exist)", companyID, res.Period)
	}
	x := explainer{res: res, rs: rs, g: g}
	x.header()
	x.satisfaction()
	x.disclosure()
	x.governance()
	x.base()
	x.events()
	x.total()
	x.gradeAndList()
	return x.b.String(), nil
}

type explainer struct {
	res *Result
	rs  *Ruleset
	g   *Grade
	b   strings.Builder
}

func (x *explainer) line(format string, args ...any) {
	fmt.Fprintf(&x.b, format, args...)
	x.b.WriteByte('\n')
}

// num shows an intermediate value: exact when four decimals suffice, else cut off and marked "…".
func num(r *big.Rat) string { return truncatedDecimal(r, 4) }

func (x *explainer) header() {
	g, res := x.g, x.res
	x.line("物业服务企业信用评分说明")
	x.line("企业：%s（%s）", g.Name, g.Company)
	x.line("评分期：%s（期末 %s；信息公开截止日 %s）", res.Period, res.PeriodEnd, res.DisclosureDeadline)
	x.line("评分规则：%s（规则哈希 %.12s）", res.Ruleset, res.RulesetHash)
	x.line("结果：总分 %s，等级 %s，%s，第 %d 名（共 %d 家）。", g.Score, g.Grade, listLabel(g.List), g.Rank, len(res.Grades))
	x.line("说明：全程按有理数精确计算，只在报告时四舍五入保留两位小数（五入远离零）；下文中间值只为阅读而显示，“…”表示其后还有位数。")
}

func (x *explainer) satisfaction() {
	g, res, rs := x.g, x.res, x.rs
	x.line("")
	x.line("一、业主满意度 S（权重 %s）", decimalString(rs.Weights.Satisfaction))
	if res.CityRatings == 0 {
		x.line("全市本期没有有效评价，全市平均分 μ 取 3。收缩系数 K = %s。", decimalString(rs.K))
	} else {
		x.line("全市本期有效评价 %d 份（每户只计最新一次；每份取六项评分的平均 r），全市平均分 μ = %s；收缩系数 K = %s。",
			res.CityRatings, num(res.Exact.CityMean), decimalString(rs.K))
	}
	x.line("每个小区的平均分向全市平均分收缩：s = (n·m + K·μ) / (n + K)，小区满意度得分 = (s − 1) / 4 × 100。")
	for i, d := range g.EstateDetails {
		x.line("%d. 小区 %s %s（%d 户）：", i+1, d.Estate, d.Name, d.Households)
		if d.Ratings == 0 {
			x.line("   本期没有有效评价，m 取全市平均分 μ = %s；s = μ = %s；", num(d.Exact.Mean), num(d.Exact.Shrunk))
		} else {
			x.line("   有效评价 n = %d 份，平均分 m = %s；", d.Ratings, num(d.Exact.Mean))
			x.line("   s = (%d × %s + %s × %s) / (%d + %s) = %s；",
				d.Ratings, num(d.Exact.Mean), decimalString(rs.K), num(res.Exact.CityMean), d.Ratings, decimalString(rs.K), num(d.Exact.Shrunk))
		}
		x.line("   满意度得分 = (%s − 1) / 4 × 100 = %s。", num(d.Exact.Shrunk), num(d.Exact.Satisfaction))
	}
	x.line("S = 按户数加权平均 = %s = %s，报告值 %s。",
		x.weightedMean(func(d EstateDetail) *big.Rat { return d.Exact.Satisfaction }), num(g.Exact.Satisfaction), g.Components.Satisfaction)
}

// weightedMean writes (h1 × v1 + h2 × v2 + …) / H for the company's estates.
func (x *explainer) weightedMean(value func(EstateDetail) *big.Rat) string {
	terms := make([]string, len(x.g.EstateDetails))
	for i, d := range x.g.EstateDetails {
		terms[i] = fmt.Sprintf("%d × %s", d.Households, num(value(d)))
	}
	return fmt.Sprintf("(%s) / %d", strings.Join(terms, " + "), x.g.Households)
}

var reasonLabels = map[string]string{
	ReasonOnTime:      "按时",
	ReasonWithinGrace: "逾期，但在宽限期内",
	ReasonLate:        "逾期超过宽限期",
	ReasonMissing:     "未提交",
	ReasonRejected:    "被驳回",
}

var statusLabels = map[string]string{
	StatusVerified: "已审核通过",
	StatusPending:  "待审核，按已提交计",
	StatusRejected: "审核驳回",
}

func (x *explainer) disclosure() {
	g, res, rs := x.g, x.res, x.rs
	w := rs.Disclosure.Worths
	deadline := res.DisclosureDeadline
	x.line("")
	x.line("二、信息公开 D（权重 %s）", decimalString(rs.Weights.Disclosure))
	x.line("每个小区每期应公开四项。在截止日 %s 当天结束前（%s 时区，即 %s 之前）提交计 %s；其后 %d 天内（%s 当天结束前）提交计 %s；更晚提交计 %s；未提交或被驳回计 %s。待审核的按已提交计。",
		deadline, rs.Disclosure.ZoneOffset, deadline.AddDays(1).Start(rs.Disclosure.Zone).Format("2006-01-02 15:04 -07:00"),
		decimalString(w.OnTime), rs.Disclosure.GraceDays, deadline.AddDays(rs.Disclosure.GraceDays), decimalString(w.WithinGrace),
		decimalString(w.Late), decimalString(w.MissingOrRejected))
	x.line("小区信息公开得分 = 四项得分的平均 × 100。")
	for i, d := range g.EstateDetails {
		x.line("%d. 小区 %s %s：", i+1, d.Estate, d.Name)
		worths := make([]string, len(d.Disclosures))
		for j, dw := range d.Disclosures {
			worths[j] = decimalString(dw.Worth)
			if dw.Reason == ReasonMissing {
				x.line("   %s：未提交，计 %s；", Categories[j].Label, worths[j])
				continue
			}
			x.line("   %s：%s 提交，%s，%s，计 %s；", Categories[j].Label,
				dw.FiledAt.In(rs.Disclosure.Zone).Format("2006-01-02 15:04:05 -07:00"), statusLabels[dw.Status], reasonLabels[dw.Reason], worths[j])
		}
		x.line("   信息公开得分 = (%s) / %d × 100 = %s。", strings.Join(worths, " + "), len(d.Disclosures), num(d.Exact.Disclosure))
	}
	x.line("D = 按户数加权平均 = %s = %s，报告值 %s。",
		x.weightedMean(func(d EstateDetail) *big.Rat { return d.Exact.Disclosure }), num(g.Exact.Disclosure), g.Components.Disclosure)
}

func (x *explainer) governance() {
	g, rs := x.g, x.rs
	x.line("")
	x.line("三、党建引领 G（权重 %s）", decimalString(rs.Weights.Governance))
	if !g.Governance.Recorded {
		x.line("本期没有党建记录，G = 0。")
		return
	}
	item := func(has bool, label string, points *big.Rat) string {
		if has {
			return fmt.Sprintf("%s：有，+%s", label, decimalString(points))
		}
		return fmt.Sprintf("%s：无，+0", label)
	}
	x.line("%s；%s；%s。G = %s。",
		item(g.Governance.PartyOrg, "党组织（单独或联合建立）", rs.Governance.PartyOrg),
		item(g.Governance.PartyInstructor, "党建指导员", rs.Governance.PartyInstructor),
		item(g.Governance.JointMechanism, "三方联动机制", rs.Governance.JointMechanism),
		num(g.Exact.Governance))
}

func (x *explainer) base() {
	g, rs := x.g, x.rs
	x.line("")
	x.line("四、基础分")
	x.line("base = %s × S + %s × D + %s × G = %s × %s + %s × %s + %s × %s = %s。",
		decimalString(rs.Weights.Satisfaction), decimalString(rs.Weights.Disclosure), decimalString(rs.Weights.Governance),
		decimalString(rs.Weights.Satisfaction), num(g.Exact.Satisfaction),
		decimalString(rs.Weights.Disclosure), num(g.Exact.Disclosure),
		decimalString(rs.Weights.Governance), num(g.Exact.Governance),
		num(g.Exact.Base))
}

func (x *explainer) events() {
	g, res, rs := x.g, x.res, x.rs
	x.line("")
	x.line("五、信用记录（在期末 %s 仍有效的才计入：发生日不晚于期末，且期末早于有效期满日和信用修复日）", res.PeriodEnd)
	if len(g.ActiveEvents) == 0 {
		x.line("没有有效的信用记录。")
	}
	for _, kind := range []string{KindGood, KindBad} {
		for _, ev := range g.ActiveEvents {
			if ev.Kind == kind {
				x.line("%s，有效至 %s（含）%s", eventText(ev), ev.LastDay, eventTail(ev))
			}
		}
	}
	if g.Exact.GoodPoints.Cmp(g.Exact.Bonus) > 0 {
		x.line("优良记录合计 %s，超过加分上限 %s，加分计 %s。", num(g.Exact.GoodPoints), decimalString(rs.BonusCap), num(g.Exact.Bonus))
	} else {
		x.line("加分 = 有效优良记录合计 %s（上限 %s）。", num(g.Exact.Bonus), decimalString(rs.BonusCap))
	}
	x.line("扣分 = 有效不良记录合计 %s（不设上限）。", num(g.Exact.Deduction))
	for _, ev := range g.InactiveEvents {
		var why string
		switch ev.Status {
		case EventNotYet:
			why = "发生在期末之后，期末不在有效期内"
		case EventExpired:
			why = fmt.Sprintf("有效至 %s（含），期末不在有效期内", ev.LastDay)
		case EventRepaired:
			why = fmt.Sprintf("已于 %s 信用修复，期末不在有效期内", ev.RepairedOn)
		case EventNotified:
			why = "告知中（异议期未满或异议未决），尚未生效"
		case EventWithdrawn:
			why = "异议成立，已撤销"
		}
		x.line("不计入：%s，%s%s", eventText(ev), why, eventTail(ev))
	}
}

// eventText writes a credit record's kind, id, date, validity and points.
func eventText(ev EventDetail) string {
	label, sign := "优良记录", "+"
	if ev.Kind == KindBad {
		label, sign = "不良记录", "−"
	}
	veto := ""
	if ev.Veto {
		veto = "（一票否决）"
	}
	return fmt.Sprintf("%s %s%s %s%s：%s 发生，有效期 %d 天", label, ev.ID, veto, sign, decimalString(ev.Points), ev.Date, ev.ValidDays)
}

func eventTail(ev EventDetail) string {
	if ev.Description == "" {
		return "。"
	}
	return "。事由：" + ev.Description + "。"
}

func (x *explainer) total() {
	g := x.g
	x.line("")
	x.line("六、总分")
	x.line("base + 加分 − 扣分 = %s + %s − %s = %s。", num(g.Exact.Base), num(g.Exact.Bonus), num(g.Exact.Deduction), num(g.Exact.Unclamped))
	switch {
	case g.Exact.Unclamped.Cmp(ratHundred) > 0:
		x.line("高于 100，取 100。")
	case g.Exact.Unclamped.Sign() < 0:
		x.line("低于 0，取 0。")
	default:
		x.line("在 0 到 100 之间，不需截取。")
	}
	x.line("四舍五入保留两位小数：%s → 总分 %s。", num(g.Exact.Score), g.Score)
}

func (x *explainer) gradeAndList() {
	g, rs := x.g, x.rs
	x.line("")
	x.line("七、等级（按四舍五入后的总分）")
	bad := eventIDs(g.ActiveBad())
	switch g.GradeBasis {
	case BasisVeto:
		var vetoes []EventDetail
		for _, ev := range g.ActiveEvents {
			if ev.Veto {
				vetoes = append(vetoes, ev)
			}
		}
		x.line("有有效的一票否决记录 %s，不论分数，等级为 %s。", eventIDs(vetoes), g.Grade)
	case BasisBand:
		x.line("%s ≥ %s → %s。", g.Score, decimalString(x.bandMin(g.Grade)), g.Grade)
	case BasisBelowBandsBad:
		x.line("%s 低于最低档 %s，且有有效不良记录 %s → %s。", g.Score, decimalString(rs.Bands[len(rs.Bands)-1].Min), bad, g.Grade)
	case BasisBelowBandsClean:
		x.line("%s 低于 %s，但没有有效不良记录：只是分数低、记录清白的企业不列入失信等级 → %s。", g.Score, decimalString(rs.Bands[len(rs.Bands)-1].Min), g.Grade)
	}

	x.line("")
	x.line("八、红黑榜")
	x.line("红榜：%s。%s", x.ruleText(rs.Red), x.verdict(rs.Red, bad))
	x.line("黑榜：%s。%s", x.ruleText(rs.Black), x.verdict(rs.Black, bad))
	x.line("结论：%s。", listLabel(g.List))

	x.line("")
	x.line("九、排名")
	x.line("第 %d 名（共 %d 家）。依次按总分、满意度 S 的报告值（高者在前）和企业代码（升序）排序。", g.Rank, len(x.res.Grades))
}

func (x *explainer) bandMin(grade string) *big.Rat {
	for _, b := range x.rs.Bands {
		if b.Grade == grade {
			return b.Min
		}
	}
	return ratZero
}

// ruleText writes a list's criteria.
func (x *explainer) ruleText(rule ListRule) string {
	parts := []string{"等级为 " + strings.Join(rule.Grades, " 或 ")}
	if rule.NoActiveBad {
		parts = append(parts, "没有有效不良记录")
	}
	if rule.MinDisclosure != nil {
		parts = append(parts, fmt.Sprintf("信息公开 D 的精确值不低于 %s（即每项公开都按时）", decimalString(rule.MinDisclosure)))
	}
	return strings.Join(parts, "，")
}

// verdict says whether the company meets a list's criteria, and if not, every reason why not.
func (x *explainer) verdict(rule ListRule, bad string) string {
	g := x.g
	var missed []string
	if !slices.Contains(rule.Grades, g.Grade) {
		missed = append(missed, "等级为 "+g.Grade)
	}
	if rule.NoActiveBad && bad != "" {
		missed = append(missed, "有有效不良记录 "+bad)
	}
	if m := rule.MinDisclosure; m != nil && g.Exact.Disclosure.Cmp(m) < 0 {
		missed = append(missed, fmt.Sprintf("D = %s，低于 %s", num(g.Exact.Disclosure), decimalString(m)))
	}
	if len(missed) == 0 {
		return "符合。"
	}
	return "不符合：" + strings.Join(missed, "；") + "。"
}

func listLabel(list string) string {
	switch list {
	case ListRed:
		return "列入红榜"
	case ListBlack:
		return "列入黑榜"
	}
	return "不列入红黑榜"
}

func eventIDs(events []EventDetail) string {
	ids := make([]string, len(events))
	for i, ev := range events {
		ids[i] = ev.ID
	}
	return strings.Join(ids, "、")
}
