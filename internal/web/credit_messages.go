package web

import (
	"fmt"
	"time"

	"github.com/propcredit/propcredit/internal/credit"
	"github.com/propcredit/propcredit/internal/domain"
)

// Template functions of the credit pages.

type filesData struct {
	Lang  string
	Files []credit.FileRef
}

// dueText writes an objection window's end. The window closes at 00:00 +08:00 of a day, so
// people read it as the end of the day before.
func dueText(lang string, due time.Time) string {
	last := due.In(domain.Zone).Add(-time.Nanosecond).Format(domain.DateLayout)
	return T(lang, "credit.due", last)
}

// textFieldArgs is what the credit-text partial gets: the Page, the label's key, the field's
// name, its rows and what was typed.
type textFieldArgs struct {
	Page        *Page
	Label, Name string
	Rows        int
	Value       string
}

type claimArgs struct {
	Lang  string
	Claim credit.Claim
	Items []string
}

func init() {
	addTemplateFuncs(map[string]any{
		"filesOf": func(lang string, files []credit.FileRef) filesData { return filesData{lang, files} },
		"kb":      func(n int64) string { return fmt.Sprintf("%.0f KB", float64(n+1023)/1024) },
		"dueText": dueText,
		"textField": func(p *Page, label, name string, rows int, value string) textFieldArgs {
			return textFieldArgs{p, label, name, rows, value}
		},
		"creditMaxText": func() int { return credit.MaxText },
		// evidenceHint says how many files of what size a form takes.
		"evidenceHint": func(lang string) string {
			return T(lang, "credit.evidence_hint", credit.MaxFiles, credit.MaxFileBytes>>20)
		},
		"ruleLabel": ruleLabel,
		"list":      func(items ...string) []string { return items },
		"claimArgs": func(lang string, c credit.Claim) claimArgs { return claimArgs{lang, c, credit.GovernanceItems} },
	})
	addMessages(map[string]message{
		"nav.credit":         {"信用记录", "Credit records"},
		"nav.company_credit": {"记分告知", "Credit notices"},

		"credit.title":                {"信用记录", "Credit records"},
		"credit.intro":                {"记录物业服务企业的优良和不良信用记录，向企业发出记分告知单，处理企业异议和信用修复申请。只有生效的记录计入评分。", "Record good and bad credit records of property-service companies, send them notices, and decide their objections and repair applications. Only records in force count in the score."},
		"credit.new":                  {"新建信用记录", "New credit record"},
		"credit.awaiting":             {"待处理（%d）", "Waiting for a decision (%d)"},
		"credit.awaiting.objection":   {"企业异议待复核", "objection to decide"},
		"credit.awaiting.repair":      {"信用修复待审核", "repair application to decide"},
		"credit.awaiting_none":        {"没有待处理的异议或修复申请", "No objection or repair application is waiting"},
		"credit.records":              {"全部记录", "All records"},
		"credit.all":                  {"全部", "All"},
		"credit.none":                 {"没有记录", "No records"},
		"credit.id":                   {"记录编号", "Record"},
		"credit.status":               {"状态", "Status"},
		"credit.status.draft":         {"草稿（企业不可见）", "Draft (not shown to the company)"},
		"credit.status.notified":      {"告知中", "Notified"},
		"credit.status.in_force":      {"生效", "In force"},
		"credit.status.withdrawn":     {"已撤销", "Withdrawn"},
		"credit.company":              {"企业", "Company"},
		"credit.company_code":         {"企业统一社会信用代码", "Company's unified social credit code"},
		"credit.uscc":                 {"统一社会信用代码", "unified social credit code"},
		"credit.estate":               {"小区", "Estate"},
		"credit.estate_optional":      {"小区编号（选填）", "Estate id (optional)"},
		"credit.rule":                 {"记录类型", "Record type"},
		"credit.choose_rule":          {"请选择", "Choose"},
		"credit.kind":                 {"类别", "Kind"},
		"credit.kind.good":            {"优良信用记录（加分）", "Good record (adds points)"},
		"credit.kind.bad":             {"不良信用记录（扣分）", "Bad record (deducts points)"},
		"credit.veto":                 {"一票否决", "one-vote veto"},
		"credit.points":               {"分值", "Points"},
		"credit.date":                 {"发生日期", "Date of the fact"},
		"credit.valid_days":           {"有效期（天）", "Valid for (days)"},
		"credit.valid_default":        {"按评分规则默认（365天）", "The ruleset's default (365 days)"},
		"credit.repaired_on":          {"信用修复日期", "Repaired on"},
		"credit.description":          {"事实描述", "What happened"},
		"credit.evidence":             {"证据材料", "Evidence"},
		"credit.evidence_hint":        {"PDF、JPG 或 PNG，最多 %d 个文件，每个不超过 %d MB，合计不超过 8 MB", "PDF, JPG or PNG: at most %d files of %d MB each, 8 MB in all"},
		"credit.no_files":             {"无", "None"},
		"credit.author":               {"记录人", "Recorded by"},
		"credit.draft_hint":           {"保存后为草稿，企业看不到；核对无误后再发出告知单。", "It is saved as a draft, which the company cannot see; send the notice once you have checked it."},
		"credit.save_draft":           {"保存草稿", "Save the draft"},
		"credit.record_title":         {"信用记录 %s", "Credit record %s"},
		"credit.notice":               {"记分告知单", "Notice"},
		"credit.notice_title":         {"信用记分告知单", "Credit record notice"},
		"credit.objection_due":        {"异议截止", "Objections until"},
		"credit.due":                  {"%s 24:00（北京时间）", "the end of %s (UTC+8)"},
		"credit.read_at":              {"企业查阅", "Opened by the company"},
		"credit.unread":               {"未读", "Not opened yet"},
		"credit.notify":               {"发出告知单", "Send the notice"},
		"credit.notify_intro":         {"发出后企业即可看到本记录和告知单；不良记录进入异议期，异议期内或异议未决时不计分。", "Once sent, the company sees the record and its notice; a bad record opens its objection window, and does not count while the window or an objection is open."},
		"credit.notify_submit":        {"发出告知单", "Send the notice"},
		"credit.objection":            {"企业异议", "The company's objection"},
		"credit.decision":             {"复核决定", "Decision"},
		"credit.outcome":              {"复核结论", "Outcome"},
		"credit.outcome.upheld":       {"异议成立，撤销记录", "Objection upheld: the record is withdrawn"},
		"credit.outcome.partly":       {"异议部分成立，变更记录", "Partly upheld: the record is changed"},
		"credit.outcome.rejected":     {"异议不成立，维持记录", "Rejected: the record stands"},
		"credit.changed_from":         {"由 %s（%s 分）变更为 %s（%s 分）", "Changed from %s (%s points) to %s (%s points)"},
		"credit.reason":               {"理由", "Reason"},
		"credit.reason_shown":         {"理由（企业可见）", "Reason (the company sees it)"},
		"credit.decide":               {"复核异议", "Decide the objection"},
		"credit.decide_submit":        {"提交复核决定", "Record the decision"},
		"credit.partly_rule":          {"部分成立时：改为记录类型（选填）", "If partly upheld: change the type to (optional)"},
		"credit.keep_rule":            {"不变", "Keep it"},
		"credit.partly_points":        {"部分成立时：改为分值（选填）", "If partly upheld: change the points to (optional)"},
		"credit.repairs":              {"信用修复", "Credit repair"},
		"credit.no_repairs":           {"没有修复申请", "No repair applications"},
		"credit.repair.pending":       {"待审核", "Waiting"},
		"credit.repair.approved":      {"已同意修复", "Approved"},
		"credit.repair.refused":       {"不予修复", "Refused"},
		"credit.repair_decide":        {"审核修复申请", "Decide the repair application"},
		"credit.repair_approve":       {"同意修复（自今日起不再计分）", "Approve (it stops counting from today)"},
		"credit.repair_refuse":        {"不予修复", "Refuse"},
		"credit.repair_decide_submit": {"提交审核结果", "Record the decision"},
		"credit.repair_apply":         {"申请信用修复", "Apply for credit repair"},
		"credit.repair_intro":         {"已完成整改的，可提交整改说明和证明材料申请信用修复；审核同意后该记录自同意之日起不再计分。", "Once you have put it right, apply with an account of what you did and evidence; if approved, the record stops counting from that day."},
		"credit.repair_text":          {"整改情况说明", "What you did to put it right"},
		"credit.repair_submit":        {"提交修复申请", "Apply"},
		"credit.inbox":                {"记分告知", "Credit notices"},
		"credit.unread_count":         {"%d 份未读", "%d unread"},
		"credit.new_notice":           {"未读", "New"},
		"credit.inbox_intro":          {"主管部门对贵单位的信用记录及告知单。对不良记录有异议的，可在告知之日起 %d 个工作日内提出一次异议。", "The bureau's credit records about your company and their notices. You may object once to a bad record within %d working days of its notice."},
		"credit.repair_history":       {"信用修复记录", "Credit repair history"},
		"credit.inbox_none":           {"暂无告知单", "No notices"},
		"credit.object":               {"提出异议", "Object"},
		"credit.object_intro":         {"每条记录只能提出一次异议，截止时间：%s。复核由记录人以外的工作人员作出，并书面说明理由。", "You may object once to each record, until %s. A member of staff other than the one who recorded it decides, with written reasons."},
		"credit.object_text":          {"异议理由", "Your objection"},
		"credit.object_submit":        {"提交异议", "Submit the objection"},
		"credit.window_closed":        {"异议期已过。", "The objection window has closed."},
		"credit.back_to_record":       {"返回记录", "Back to the record"},
		"credit.print_hint":           {"可直接打印本页", "Print this page as it is"},
		"credit.notice_body":          {"经核查，贵单位于 %s 发生下列行为，依据信用记录目录“%s”记入信用记录，现予告知。", "We found that on %s your company did what is described below, which the credit record catalogue lists as “%s”; it has been recorded, and you are hereby notified."},
		"credit.notice_objection":     {"如有异议，请于 %s 前登录本系统提出，并附相关证据材料；逾期未提出的，记录自动生效。", "If you object, do so in this system before %s, with your evidence; without an objection by then, the record comes into force."},
		"credit.notice_issuer":        {"住房和城乡建设局", "Housing and Urban-Rural Development Bureau"},

		"credit.ok.created":        {"已保存为草稿。核对后可发出告知单。", "Saved as a draft. Check it, then send the notice."},
		"credit.ok.notified":       {"告知单已发出。", "The notice has been sent."},
		"credit.ok.decided":        {"复核决定已记录，企业可看到结论和理由。", "The decision is recorded; the company sees it and its reason."},
		"credit.ok.repair_decided": {"修复审核结果已记录。", "The repair decision is recorded."},
		"credit.ok.objected":       {"异议已提交，复核结果将在本页告知。", "Your objection is submitted; the decision will be shown on this page."},
		"credit.ok.repair_applied": {"修复申请已提交。", "Your repair application is submitted."},

		"credit.err.invalid":             {"请修改标出的项目", "Please correct the marked fields"},
		"credit.err.staff_only":          {"只有住建局工作人员可以执行此操作", "Only bureau staff may do this"},
		"credit.err.company_only":        {"只有企业账号可以执行此操作", "Only a company account may do this"},
		"credit.err.company_required":    {"请填写企业统一社会信用代码", "Enter the company's credit code"},
		"credit.err.no_company":          {"没有这家企业", "No such company"},
		"credit.err.no_estate":           {"没有这个小区", "No such estate"},
		"credit.err.estate_company":      {"该小区不由这家企业管理", "That estate is not managed by this company"},
		"credit.err.no_rule":             {"请从目录中选择记录类型", "Choose a record type from the catalogue"},
		"credit.err.date":                {"请填写日期，格式为 2026-12-01", "Enter a date such as 2026-12-01"},
		"credit.err.date_future":         {"发生日期不能晚于今天", "The date cannot be after today"},
		"credit.err.text_required":       {"此项必填", "This is required"},
		"credit.err.text_chars":          {"不能包含控制字符或文字方向控制符", "Must not contain control characters or text-direction controls"},
		"credit.err.text_too_long":       {"不能超过 2000 字", "At most 2000 characters"},
		"credit.err.too_many_files":      {"最多上传 5 个文件", "At most 5 files"},
		"credit.err.file_empty":          {"文件是空的", "The file is empty"},
		"credit.err.file_too_large":      {"文件不能超过 5 MB", "A file may be at most 5 MB"},
		"credit.err.file_type":           {"只接受 PDF、JPG 或 PNG 文件", "Only PDF, JPG or PNG files"},
		"credit.err.file_content":        {"文件内容与扩展名不符，或文件已损坏", "The file's content does not match its name, or the file is damaged"},
		"credit.err.no_record":           {"没有这条记录", "No such record"},
		"credit.err.no_file":             {"没有这个文件", "No such file"},
		"credit.err.no_notice":           {"这条记录还没有告知单", "This record has no notice yet"},
		"credit.err.not_draft":           {"告知单已经发出", "The notice has been sent already"},
		"credit.err.changed":             {"记录刚被他人修改，请查看最新内容后重试", "Someone changed the record meanwhile; look at it again and retry"},
		"credit.err.objected_already":    {"每条记录只能提出一次异议，您已提出过", "You may object once to a record, and you have"},
		"credit.err.not_objectable":      {"这条记录现在不能提出异议", "This record cannot be objected to now"},
		"credit.err.window_closed":       {"异议期已过，不能再提出异议", "The objection window has closed"},
		"credit.err.four_eyes":           {"异议须由记录人以外的工作人员复核", "A member of staff other than the record's author must decide the objection"},
		"credit.err.no_objection":        {"这条记录没有待复核的异议", "This record has no objection to decide"},
		"credit.err.decided_already":     {"该异议已经复核", "The objection has been decided already"},
		"credit.err.outcome":             {"请选择复核结论", "Choose an outcome"},
		"credit.err.points":              {"分值须大于 0，最多两位小数", "Points must be greater than 0, with at most 2 decimals"},
		"credit.err.partly_needs_change": {"部分成立时请改变记录类型或分值", "When partly upheld, change the type or the points"},
		"credit.err.repair_decision":     {"请选择同意或不予修复", "Choose approve or refuse"},
		"credit.err.repair_not_bad":      {"只有不良记录可以申请信用修复", "Only a bad record can be repaired"},
		"credit.err.repair_not_in_force": {"记录生效后才能申请信用修复", "A record can be repaired once it is in force"},
		"credit.err.repaired_already":    {"该记录已完成信用修复", "This record has been repaired already"},
		"credit.err.not_repairable":      {"按信用记录目录，此类记录不可修复", "The catalogue does not allow repairing this type of record"},
		"credit.err.repair_pending":      {"已有修复申请待审核", "A repair application is waiting for a decision"},
		"credit.err.no_repair":           {"没有待审核的修复申请", "No repair application is waiting"},

		"nav.company_governance":    {"党建情况申报", "Governance facts"},
		"gov.title":                 {"党建引领情况申报", "Governance facts"},
		"gov.intro":                 {"按评价期申报党组织建设、党建指导员和三方联动机制情况，并上传证明材料；经住建局核实的项目才计入评分。", "Declare, for each period, your party organisation, party-building instructor and part in the joint mechanism (三方联动), with evidence; only items the bureau verifies count."},
		"gov.review_title":          {"党建情况核实", "Verify governance facts"},
		"gov.review_intro":          {"逐项核实企业申报的党建引领情况；勾选核实的项目计入评分，理由企业可见。", "Verify each item companies declared; the items you tick count in the score, and the company sees your reason."},
		"gov.period":                {"评价期", "Period"},
		"gov.none":                  {"本期还没有申报", "No declarations for this period"},
		"gov.declare":               {"%s 申报项目", "Items for %s"},
		"gov.note":                  {"说明（选填）", "Note (optional)"},
		"gov.declare_submit":        {"提交申报", "Declare"},
		"gov.verify_items":          {"核实通过的项目", "Items verified"},
		"gov.verify_submit":         {"提交核实结果", "Record the verification"},
		"gov.verified":              {"已核实", "verified"},
		"gov.not_verified":          {"未核实", "not verified"},
		"gov.item.party_org":        {"建立党组织（含联合党组织）", "Has a party organisation (own or joint)"},
		"gov.item.party_instructor": {"选派党建指导员", "A party-building instructor is assigned"},
		"gov.item.joint_mechanism":  {"参与居委会、业委会、物业企业三方联动机制", "Takes part in the residents' committee, owners' committee and company joint mechanism"},
		"gov.status.declared":       {"待核实", "Waiting for verification"},
		"gov.status.verified":       {"已核实", "Verified"},
		"gov.status.refused":        {"未通过核实", "Not verified"},
		"gov.ok.declared":           {"申报已提交，待住建局核实。", "Declared; the bureau will verify it."},
		"gov.ok.verified":           {"核实结果已记录。", "The verification is recorded."},

		"credit.err.no_period":         {"没有这个评价期", "No such period"},
		"credit.err.items":             {"请从列出的项目中选择", "Choose from the listed items"},
		"credit.err.evidence_required": {"申报项目须附证明材料", "Declared items need evidence"},
		"credit.err.claim_verified":    {"本期申报已核实，不能再修改", "This period's declaration has been verified and cannot change"},
		"credit.err.no_claim":          {"没有这份申报", "No such declaration"},
		"credit.err.claim_decided":     {"这份申报已经核实", "This declaration has been verified already"},
	})
}
