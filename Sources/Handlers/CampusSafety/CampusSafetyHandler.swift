import HandlerKit

/// Campus safety (校园安全): every `safety.incident` raises an alert at the level of the
/// severity table; updates change its level; resolution resolves it. Incidents left open
/// too long (`incident_overdue`), repeated at one school (`repeat_school`) or food poisoning
/// at several schools of one district (`food_cluster`) raise their own alerts.
public struct CampusSafetyHandler: Handler {
    /// The plan article the incident alerts cite: the 2023 plan's safety list (000 §22).
    public static let planRef = "City 2023 §22"

    /// The table DOMAIN.md states; a plan in force may change its numbers (`severity:`).
    public let severity: SeverityTable

    public init(severity: SeverityTable = SeverityTable()) { self.severity = severity }

    static let incidentRule = RuleSpec("safety.incident", name: "校园安全事件", owner: .school, ackWithin: RuleDuration(2, .hours))
    static let overdueRule = RuleSpec(
        "safety.incident_overdue", name: "安全事件逾期未处置", owner: .district, ackWithin: RuleDuration(2, .hours),
        deadlines: ["redOrange": RuleDuration(24, .hours), "yellowBlue": RuleDuration(72, .hours)])
    static let repeatRule = RuleSpec(
        "safety.repeat_school", name: "同一学校30天内多发安全事件", owner: .district, ackWithin: RuleDuration(1, .workingDays))
    static let foodRule = RuleSpec(
        "safety.food_cluster", name: "同一区县48小时内多校食物中毒", owner: .district, ackWithin: RuleDuration(2, .hours))

    public var manifest: HandlerManifest { Self.manifest }

    /// Made once: the indicators' flush reads it at every event.
    static let manifest = HandlerManifest(
        indicators: [
            IndicatorSpec("safety.open_incidents", kind: .count, name: "未处置完毕的安全事件", unit: "起"),
            IndicatorSpec("safety.open_incidents.red", kind: .count, name: "未处置完毕的红色预警事件", unit: "起"),
            IndicatorSpec("safety.open_incidents.orange", kind: .count, name: "未处置完毕的橙色预警事件", unit: "起"),
            IndicatorSpec("safety.open_incidents.yellow", kind: .count, name: "未处置完毕的黄色预警事件", unit: "起"),
            IndicatorSpec("safety.open_incidents.blue", kind: .count, name: "未处置完毕的蓝色预警事件", unit: "起"),
            IndicatorSpec("safety.incidents_30d", kind: .count, name: "近30天安全事件", unit: "起"),
        ],
        rules: [Self.incidentRule, Self.overdueRule, Self.repeatRule, Self.foodRule])

    public var name: String { "CampusSafety" }
    public var eventTypes: [String] { [EventType.safetyIncident] }
    public func makeInitialState() -> State { State() }

    public struct State: Codable, Sendable, Equatable {
        var incidents = SubjectMap<Incident>()
        /// Report times (ms) of recent incidents per school, for `repeat_school`.
        var schoolWindows = SubjectMap<[Int64]>()
        /// Recent food poisoning per district: report time (ms) and school.
        var foodWindows: [String: [FoodCase]] = [:]
        var deadlines = DeadlineQueue()
        public var alerts = AlertBook()
        var indicators = IndicatorBook()
        public init() {}
    }

    struct Incident: Codable, Sendable, Equatable {
        var schoolId: String
        var region: RegionCode
        var category: SafetyIncident.Category
        var level: Alert.Level
        var reportedAt: Timestamp
        var open: Bool
        /// The event time of the latest update applied (ms); an older update arriving late
        /// does not undo a newer one.
        var lastAt: Int64?
    }

    struct FoodCase: Codable, Sendable, Equatable {
        var at: Int64
        var schoolId: String
    }

    static let hour: Int64 = 3600
    static let windowDays: Int64 = 30
    static let repeatCount = 3
    static let foodWindowHours: Int64 = 48

    public func handle(_ event: Event, state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        var out = expire(&state, context: context)
        guard case .safetyIncident(let incident) = event.payload else { return out }
        let table = severity.overridden(by: context.plans.severity(for: event.region.city, on: incident.reportedAt.inChinaTime.localDate))
        let level = table.level(for: incident)
        let known = state.incidents[incident.incidentId]
        var record =
            known
            ?? Incident(
                schoolId: incident.schoolId, region: event.region, category: incident.category, level: level,
                reportedAt: incident.reportedAt, open: false)
        let at = event.occurredAt.epochMilliseconds
        if let last = known?.lastAt, at < last {
            // Superseded: a newer update of this incident was applied already.
            flush(&state, now: context.now, plans: context.plans, tick: false, out: &out)
            return out
        }
        record.lastAt = at
        if known == nil { firstReport(record, id: incident.incidentId, cause: event.id, state: &state, now: context.now, out: &out) }
        let summary = Self.summary(incident, level: level)
        if known == nil && incident.status == .resolved {
            // Reported after the fact: the alert still fires at its level — the record and the
            // upward report exist — and resolves in the same breath.
            if let o = state.alerts.fire(firing(incident, region: event.region, level: level, summary: summary, at: event.occurredAt, cause: event.id)) {
                out.append(o)
            }
        }

        if incident.status == .resolved {
            if record.open {
                record.open = false
                openCount(record, -1, id: incident.incidentId, cause: event.id, state: &state)
            }
            state.incidents[incident.incidentId] = record
            let at = incident.resolvedAt ?? event.occurredAt
            let summary = "\(incident.schoolId) \(incident.category.chinese)事件(\(incident.incidentId))已处置完毕"
            for rule in ["safety.incident", "safety.incident_overdue"] {
                if let o = state.alerts.resolve(fingerprint: "\(rule)/\(incident.incidentId)", at: at, causes: [event.id], summary: summary) {
                    out.append(o)
                }
            }
            flush(&state, now: context.now, plans: context.plans, tick: false, out: &out)
            return out
        }

        if record.open && record.level != level { openCount(record, -1, id: incident.incidentId, cause: event.id, state: &state) }
        if !record.open || record.level != level {
            record.level = level
            openCount(record, 1, id: incident.incidentId, cause: event.id, state: &state)
            state.deadlines.schedule("overdue|\(level.rawValue)|\(incident.incidentId)", at: overdueAt(record, context))
        }
        record.open = true
        record.category = incident.category
        state.incidents[incident.incidentId] = record

        if let o = state.alerts.fire(firing(incident, region: event.region, level: level, summary: summary, at: event.occurredAt, cause: event.id)) {
            out.append(o)
        }
        out += expire(&state, context: context)
        flush(&state, now: context.now, plans: context.plans, tick: false, out: &out)
        return out
    }

    static func summary(_ incident: SafetyIncident, level: Alert.Level) -> String {
        var summary =
            "\(incident.schoolId) 发生\(incident.category.chinese)事件(\(incident.status.chinese)): "
            + "涉及\(incident.affected)人, 受伤\(incident.injured)人, 死亡\(incident.deaths)人, \(level.chinese)预警"
        if let description = incident.description, !description.isEmpty { summary += " — \(description)" }
        return summary
    }

    private func firing(_ incident: SafetyIncident, region: RegionCode, level: Alert.Level, summary: String, at: Timestamp, cause: String)
        -> AlertBook.Firing
    {
        AlertBook.Firing(
            rule: Self.incidentRule.id, subjectKey: incident.incidentId, region: region,
            subject: ["incidentId": incident.incidentId, "schoolId": incident.schoolId], level: level,
            summary: summary, planRef: Self.planRef, at: at, causes: [cause])
    }

    public func tick(state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        var out = expire(&state, context: context)
        flush(&state, now: context.now, plans: context.plans, tick: true, out: &out)
        return out
    }

    public func explain(_ indicator: String, region: RegionCode, state: State) -> IndicatorExplanation? {
        state.indicators.explain(indicator, region: region)
    }

    /// How long an incident of `level` may stay unresolved: 24 hours for red and orange, 72
    /// for yellow and blue (DOMAIN.md); `rules.safety.incident_overdue.deadlines.redOrange` and
    /// `.yellowBlue` change it, in hours, days or working days.
    static func overdueLimit(_ level: Alert.Level, _ context: HandlerContext) -> RuleDuration {
        context.duration(overdueRule, level >= .orange ? "redOrange" : "yellowBlue")
    }

    private func overdueAt(_ i: Incident, _ context: HandlerContext) -> Timestamp {
        context.calendar.end(of: Self.overdueLimit(i.level, context), from: i.reportedAt)
    }

    private func openCount(_ i: Incident, _ delta: Int64, id: String, cause: String, state: inout State) {
        for indicator in ["safety.open_incidents", "safety.open_incidents.\(i.level.rawValue)"] {
            state.indicators.add(indicator, kind: .count, district: i.region, numerator: delta, subject: id, cause: cause)
        }
    }

    /// The windows count each incident once, by its report time: one reported late lands in
    /// the window of its own time (or in none, if that window has closed), and a count it
    /// changes after a later report at its school is published as a revision.
    private func firstReport(_ i: Incident, id: String, cause: String, state: inout State, now: Timestamp, out: inout [HandlerOutput]) {
        let at = i.reportedAt.epochMilliseconds
        let windowEnd = i.reportedAt.adding(seconds: Self.windowDays * 24 * Self.hour)
        if windowEnd > now {
            let late = (state.schoolWindows[i.schoolId]?.last).map { at < $0 } ?? false
            state.indicators.add(
                "safety.incidents_30d", kind: .count, district: i.region, numerator: 1, subject: id, cause: cause, late: late)
            state.deadlines.schedule("window|\(i.region.code)|\(id)", at: windowEnd)
            // Kept sorted; nearly always an append (reports arrive roughly in order).
            let index = Self.insertionIndex(of: at, in: state.schoolWindows[i.schoolId] ?? [])
            state.schoolWindows[i.schoolId, default: []].insert(at, at: index)
            state.deadlines.schedule("repeat|\(i.region.code)|\(i.schoolId)", at: windowEnd)
            evaluateRepeat(i.schoolId, region: i.region, state: &state, now: now, out: &out, cause: id)
        }
        if i.category == .foodPoisoning {
            let foodEnd = i.reportedAt.adding(seconds: Self.foodWindowHours * Self.hour)
            if foodEnd > now {
                state.foodWindows[i.region.code, default: []].append(FoodCase(at: at, schoolId: i.schoolId))
                state.deadlines.schedule("food|\(i.region.code)", at: foodEnd)
                evaluateFood(i.region, state: &state, now: now, out: &out, cause: id)
            }
        }
    }

    private func evaluateRepeat(_ school: String, region: RegionCode, state: inout State, now: Timestamp, out: inout [HandlerOutput], cause: String?) {
        let cutoff = now.epochMilliseconds - Self.windowDays * 24 * Self.hour * 1000
        let expired = Self.insertionIndex(of: cutoff + 1, in: state.schoolWindows[school] ?? [])  // sorted: a prefix
        if expired > 0 { state.schoolWindows[school]?.removeSubrange(..<expired) }
        if state.schoolWindows[school]?.isEmpty == true { state.schoolWindows[school] = nil }
        let times = state.schoolWindows[school] ?? []
        let fingerprint = "safety.repeat_school/\(school)"
        if times.count >= Self.repeatCount {
            if let o = state.alerts.fire(
                AlertBook.Firing(
                    rule: Self.repeatRule.id, subjectKey: school, region: region, subject: ["schoolId": school],
                    level: .orange, summary: "\(school) 30天内发生\(times.count)起安全事件, 需开展专项排查整治",
                    planRef: "Zibo 2020 §30", at: now, causes: cause.map { [$0] } ?? []))
            {
                out.append(o)
            }
        } else if let o = state.alerts.resolve(
            fingerprint: fingerprint, at: now, causes: [], summary: "\(school) 30天内安全事件已少于\(Self.repeatCount)起")
        {
            out.append(o)
        }
    }

    /// Where `value` goes in the sorted `times`: after every element smaller than it.
    static func insertionIndex(of value: Int64, in times: [Int64]) -> Int {
        if let last = times.last, last < value { return times.count }
        var low = 0
        var high = times.count
        while low < high {
            let mid = (low + high) / 2
            if times[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low
    }

    private func evaluateFood(_ region: RegionCode, state: inout State, now: Timestamp, out: inout [HandlerOutput], cause: String?) {
        let cutoff = now.epochMilliseconds - Self.foodWindowHours * Self.hour * 1000
        let cases = (state.foodWindows[region.code] ?? []).filter { $0.at > cutoff }
        state.foodWindows[region.code] = cases.isEmpty ? nil : cases
        let schools = Set(cases.map(\.schoolId)).sorted()
        let fingerprint = "safety.food_cluster/\(region.code)"
        if schools.count >= 2 {
            if let o = state.alerts.fire(
                AlertBook.Firing(
                    rule: Self.foodRule.id, subjectKey: region.code, region: region,
                    subject: ["region": region.code, "schools": schools.joined(separator: ",")], level: .red,
                    summary: "\(region.code) 48小时内\(schools.count)所学校发生食物中毒(\(schools.joined(separator: "、"))), 疑似同一供餐来源",
                    planRef: "Zibo 2020 §30", at: now, causes: cause.map { [$0] } ?? []))
            {
                out.append(o)
            }
        } else if let o = state.alerts.resolve(
            fingerprint: fingerprint, at: now, causes: [], summary: "\(region.code) 48小时内食物中毒学校已少于2所")
        {
            out.append(o)
        }
    }

    private func expire(_ state: inout State, context: HandlerContext) -> [HandlerOutput] {
        let now = context.now
        var out: [HandlerOutput] = []
        for entry in state.deadlines.popDue(now: now) {
            let parts = entry.key.split(separator: "|", maxSplits: 2).map(String.init)
            switch parts.first {
            case "overdue":
                guard parts.count == 3, let i = state.incidents[parts[2]], i.open, i.level.rawValue == parts[1] else { continue }
                let limit = Self.overdueLimit(i.level, context)
                if let o = state.alerts.fire(
                    AlertBook.Firing(
                        rule: Self.overdueRule.id, subjectKey: parts[2], region: i.region,
                        subject: ["incidentId": parts[2], "schoolId": i.schoolId], level: i.level.raised,
                        summary: "\(i.schoolId) \(i.category.chinese)事件(\(parts[2])) \(i.level.chinese)超过\(limit.chinese)仍未处置完毕",
                        planRef: Self.planRef, at: Timestamp(epochMilliseconds: entry.due), causes: []))
                {
                    out.append(o)
                }
            case "window":
                guard parts.count >= 2, let region = RegionCode(parts[1]) else { continue }
                state.indicators.add(
                    "safety.incidents_30d", kind: .count, district: region, numerator: -1, subject: parts.count == 3 ? parts[2] : nil)
            case "repeat":
                guard parts.count == 3, let region = RegionCode(parts[1]) else { continue }
                evaluateRepeat(parts[2], region: region, state: &state, now: now, out: &out, cause: nil)
            case "food":
                guard parts.count == 2, let region = RegionCode(parts[1]) else { continue }
                evaluateFood(region, state: &state, now: now, out: &out, cause: nil)
            default: continue
            }
        }
        return out
    }

    private func flush(_ state: inout State, now: Timestamp, plans: PlanSet, tick: Bool, out: inout [HandlerOutput]) {
        out += state.indicators.flush(now: now, plans: plans, manifest: manifest, tick: tick).updates
    }
}
