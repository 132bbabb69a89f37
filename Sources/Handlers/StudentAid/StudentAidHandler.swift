import HandlerKit

/// Student aid (学生资助), as the seeds state it: "按时足额做好资助金发放工作, 做到应助尽助"
/// (003 §32); "健全学生资助制度, 落实好各项学生资助政策" (City 2023 §20); "全面落实教育资助免补
/// 政策" (Zibo 2020 §9); "及时、规范发放中职助学金" (Yiyang 2013 §18). A payment is on time and
/// in full (按时足额) when every entitled student and every yuan is paid by its due date.
/// `aid.paid_on_time_share` counts students: those of payments paid on time and in full over
/// those of payments settled or past due, per district and city by numerator and denominator.
/// A payment not paid in full when its due date passes raises `aid.payment_late` (yellow;
/// orange 10 working days later) until it is; one first reported already paid late fires and
/// resolves at once, so the record exists.
/// Written against HandlerKit only; its event type `aid.payment` is in docs/domains.md.
public struct StudentAidHandler: Handler {
    public init() {}

    static let share = "aid.paid_on_time_share"
    static let late = "aid.late_payments"
    static let planRef = "District plans (003) §32"

    static let lateRule = RuleSpec(
        "aid.payment_late", name: "学生资助资金未按时足额发放", owner: .district, ackWithin: RuleDuration(3, .workingDays),
        deadlines: ["orange": RuleDuration(10, .workingDays)])

    public var name: String { "StudentAid" }
    public var eventTypes: [String] { [AidPayment.type] }
    public var payloadValidators: [String: PayloadValidator] {
        [AidPayment.type: { (r: FieldReader) throws(Rejection) in _ = try AidPayment(r) }]
    }
    public var manifest: HandlerManifest { Self.manifest }

    /// Made once: the indicators' flush reads it at every event.
    static let manifest = HandlerManifest(
        indicators: [
            IndicatorSpec(Self.share, kind: .ratio, name: "资助资金按时足额发放的学生占比"),
            IndicatorSpec(Self.late, kind: .count, name: "逾期未足额发放的资助批次", unit: "批"),
        ],
        rules: [Self.lateRule])
    public func makeInitialState() -> State { State() }

    public struct State: Codable, Sendable, Equatable {
        var payments = SubjectMap<Payment>()
        var deadlines = DeadlineQueue()
        var alerts = AlertBook()
        var indicators = IndicatorBook()
        public init() {}
    }

    struct Payment: Codable, Sendable, Equatable {
        var schoolId: String
        var region: RegionCode
        var programme: AidPayment.Programme
        var term: SchoolTerm
        var due: LocalDate
        var students: Int64
        var paidStudents: Int64
        var paidInFull: Bool
        /// In the share's denominator (settled or past due), with the students counted.
        var counted: Int64?
        /// In its numerator.
        var onTime = false
        /// Past due and not paid in full.
        var late = false
    }

    public func handle(_ event: Event, state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        var out = expire(&state, context: context)
        guard case .other(let object) = event.payload else { return out }
        let a = try AidPayment(FieldReader(object, path: "payload"))
        let id = a.paymentId
        let known = state.payments[id]
        var p =
            known
            ?? Payment(
                schoolId: a.schoolId, region: event.region, programme: a.programme, term: a.term, due: a.due, students: a.students,
                paidStudents: a.paidStudents, paidInFull: false)
        if known == nil { state.indicators.add(Self.late, kind: .count, district: p.region) }
        if !a.paidInFull && (known == nil || p.due != a.due) {
            state.deadlines.schedule(DeadlineQueue.key("due", a.due, id), at: a.due.adding(days: 1).startInChina)
        }
        p.due = a.due
        p.students = a.students
        p.paidStudents = a.paidStudents
        if a.paidInFull && !p.paidInFull {
            p.paidInFull = true
            if p.counted == nil {
                p.counted = a.students
                state.indicators.add(Self.share, kind: .ratio, district: p.region, denominator: a.students, subject: id, cause: event.id)
            }
            if a.paidOnTime && !p.onTime {
                p.onTime = true
                state.indicators.add(Self.share, kind: .ratio, district: p.region, numerator: p.counted ?? a.students, subject: id, cause: event.id)
            }
            let paidOn = a.paidOn?.description ?? "-"
            if !a.paidOnTime && known?.late != true {
                // First heard of already paid late: the record and the upward report still exist.
                if let o = state.alerts.fire(firing(id, p, level: .yellow, summary: "\(Self.what(p)) 应于\(a.due)前发放, 于\(paidOn)才足额发放(逾期)", at: event.occurredAt, cause: event.id)) {
                    out.append(o)
                }
            }
            if p.late {
                p.late = false
                state.indicators.add(Self.late, kind: .count, district: p.region, numerator: -1, subject: id, cause: event.id)
            }
            let how = a.paidOnTime ? "已按时足额发放(\(paidOn))" : "已于\(paidOn)足额发放, 逾期\(a.paidOn.map { $0.dayNumber - a.due.dayNumber } ?? 0)天"
            if let o = state.alerts.resolve(fingerprint: "\(Self.lateRule.id)/\(id)", at: event.occurredAt, causes: [event.id], summary: "\(Self.what(p)) \(how)") {
                out.append(o)
            }
        }
        state.payments[id] = p
        out += expire(&state, context: context)
        out += state.indicators.flush(now: context.now, plans: context.plans, manifest: manifest).updates
        return out
    }

    public func tick(state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        expire(&state, context: context) + state.indicators.flush(now: context.now, plans: context.plans, manifest: manifest, tick: true).updates
    }

    public func explain(_ indicator: String, region: RegionCode, state: State) -> IndicatorExplanation? {
        state.indicators.explain(indicator, region: region)
    }

    static func what(_ p: Payment) -> String { "\(p.schoolId) \(p.term.chinese)\(p.programme.chinese)" }

    private func firing(_ id: String, _ p: Payment, level: Alert.Level, summary: String, at: Timestamp, cause: String?) -> AlertBook.Firing {
        AlertBook.Firing(
            rule: Self.lateRule.id, subjectKey: id, region: p.region,
            subject: ["paymentId": id, "schoolId": p.schoolId, "programme": p.programme.rawValue, "term": p.term.description], level: level,
            summary: summary, planRef: Self.planRef, at: at, causes: cause.map { [$0] } ?? [])
    }

    private func expire(_ state: inout State, context: HandlerContext) -> [HandlerOutput] {
        var out: [HandlerOutput] = []
        for entry in state.deadlines.popDue(now: context.now) {
            guard let parts = entry.parts, var p = state.payments[parts.subject], !p.paidInFull, p.due.description == parts.version else { continue }
            let id = parts.subject
            let due = Timestamp(epochMilliseconds: entry.due)
            let orange = parts.stage == "orange"
            if !orange {
                state.deadlines.schedule(DeadlineQueue.key("orange", p.due, id), at: context.due(Self.lateRule, "orange", from: due))
                if p.counted == nil {
                    p.counted = p.students
                    state.indicators.add(Self.share, kind: .ratio, district: p.region, denominator: p.students, subject: id)
                }
                if !p.late {
                    p.late = true
                    state.indicators.add(Self.late, kind: .count, district: p.region, numerator: 1, subject: id)
                }
                state.payments[id] = p
            }
            let overdue = orange ? "逾期超过\(context.duration(Self.lateRule, "orange").chinese)" : "已过发放期限(\(p.due))"
            let summary = "\(Self.what(p)) 应发\(p.students)人, 已发\(p.paidStudents)人, \(overdue)仍未足额发放"
            if let o = state.alerts.fire(firing(id, p, level: orange ? .orange : .yellow, summary: summary, at: due, cause: nil)) { out.append(o) }
        }
        return out
    }
}

extension AidPayment.Programme {
    /// In Chinese, for summaries.
    var chinese: String {
        switch self {
        case .nationalGrant: "国家助学金"
        case .nutrition: "营养改善计划补助"
        case .tuitionWaiver: "免学费补助"
        case .boardingAllowance: "寄宿生生活补助"
        }
    }
}
