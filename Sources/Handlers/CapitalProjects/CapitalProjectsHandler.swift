import HandlerKit

/// Capital projects (新建/改扩建/提质改造): projects completed and seats added, counted by
/// the date they happened and by what they are (category, work, ownership), so that a plan
/// target counts exactly what its article says; milestones that pass their planned date
/// unreached — found by the clock, not only on events; and the plans' verdicts on them.
public struct CapitalProjectsHandler: Handler {
    public init() {}

    public var name: String { "CapitalProjects" }
    public var eventTypes: [String] { [EventType.projectMilestone] }
    public func makeInitialState() -> State { State() }

    static let milestoneOverdue = RuleSpec(
        "projects.milestone_overdue", name: "建设项目节点逾期", owner: .district, ackWithin: RuleDuration(5, .workingDays),
        deadlines: ["orange": RuleDuration(30, .days)])
    static let targetAtRisk = RuleSpec(
        "projects.target_at_risk", name: "建设任务落后于计划进度", owner: .city, ackWithin: RuleDuration(5, .workingDays))

    typealias Category = ProjectMilestone.Category
    static let categories = Category.allCases.map(\.rawValue)
    static let works = ProjectMilestone.Work.allCases.map(\.rawValue)
    static let ownerships = Ownership.allCases.map(\.rawValue)
    static let compulsory: [Category] = [.primary, .junior, .nineYear]

    public var manifest: HandlerManifest { Self.manifest }

    /// Made once: the indicators' flush reads it at every event.
    static let manifest: HandlerManifest = {
        let any = ["category": Self.categories, "work": Self.works, "ownership": Self.ownerships]
        let kept = ["work": Self.works, "ownership": Self.ownerships]
        return HandlerManifest(
            indicators: [
                IndicatorSpec("projects.completed", kind: .count, measure: .flow, filters: any, name: "建设项目竣工", unit: "处"),
                IndicatorSpec(
                    "projects.completed.kindergarten", kind: .count, measure: .flow, filters: kept, name: "幼儿园建设项目竣工", unit: "处"),
                // Version 2: primary, junior, nine-year and senior schools only (中职 and special
                // schools are counts of their own, 004 §8).
                IndicatorSpec(
                    "projects.completed.school", kind: .count, measure: .flow,
                    filters: ["category": ["primary", "junior", "nineYear", "senior"], "work": Self.works, "ownership": Self.ownerships],
                    name: "中小学建设项目竣工", unit: "处", definitionVersion: 2),
                IndicatorSpec(
                    "projects.seats_added", kind: .count, measure: .flow,
                    filters: ["category": Self.compulsory.map(\.rawValue), "work": Self.works, "ownership": Self.ownerships],
                    name: "新增义务教育学位", unit: "个"),
                IndicatorSpec("projects.seats_added.preschool", kind: .count, measure: .flow, filters: kept, name: "新增学前教育学位", unit: "个"),
                IndicatorSpec("projects.seats_added.senior", kind: .count, measure: .flow, filters: kept, name: "新增普通高中学位", unit: "个"),
                IndicatorSpec("projects.seats_added.vocational", kind: .count, measure: .flow, filters: kept, name: "新增中职学位", unit: "个"),
                IndicatorSpec("projects.seats_added.special", kind: .count, measure: .flow, filters: kept, name: "新增特殊教育学位", unit: "个"),
                IndicatorSpec("projects.overdue_milestones", kind: .count, name: "逾期未完成的建设节点", unit: "个"),
            ],
            rules: [Self.milestoneOverdue, Self.targetAtRisk])
    }()

    public struct State: Codable, Sendable, Equatable {
        var projects = SubjectMap<Project>()
        var deadlines = DeadlineQueue()
        var alerts = AlertBook()
        var indicators = IndicatorBook()
        public init() {}
    }

    typealias Milestone = ProjectMilestone.Milestone

    struct Project: Codable, Sendable, Equatable {
        var projectId: String
        var name: String
        var region: RegionCode
        var category: Category
        var work: ProjectMilestone.Work?
        var ownership: Ownership?
        var schedule: [Milestone: LocalDate] = [:]
        var reached: Milestone?
        var overdue: Set<Milestone> = []
        var seatsAdded: Int64 = 0
        var planRef: String?
        /// The latest event time seen for it (ms): an older event arriving late is a revision.
        var lastAt: Int64?

        func hasReached(_ m: Milestone) -> Bool { reached.map { m <= $0 } ?? false }

        /// What a plan target may filter it by.
        var facets: [String: String] {
            ["category": category.rawValue, "work": (work ?? .new).rawValue, "ownership": (ownership ?? .public).rawValue]
        }
    }

    static func chinese(_ m: Milestone) -> String {
        switch m {
        case .approved: "立项"
        case .started: "开工"
        case .toppedOut: "封顶"
        case .completed: "竣工"
        case .inUse: "投用"
        }
    }

    /// The group a project's completion is also counted in (`.kindergarten`, `.school`).
    static func completionGroup(_ c: Category) -> String? {
        switch c {
        case .kindergarten: "projects.completed.kindergarten"
        case .primary, .junior, .nineYear, .senior: "projects.completed.school"
        default: nil
        }
    }

    /// The seats indicator a project's seats count in (compulsory seats are `projects.seats_added`).
    static func seatsIndicator(_ c: Category) -> String? {
        switch c {
        case .primary, .junior, .nineYear: "projects.seats_added"
        case .kindergarten: "projects.seats_added.preschool"
        case .senior: "projects.seats_added.senior"
        case .vocational: "projects.seats_added.vocational"
        case .special: "projects.seats_added.special"
        case .other: nil
        }
    }

    public func handle(_ event: Event, state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        var out = expire(&state, context: context)
        guard case .projectMilestone(let m) = event.payload else { return out }
        var project =
            state.projects[m.projectId]
            ?? Project(projectId: m.projectId, name: m.name, region: event.region, category: m.category)
        project.name = m.name
        project.work = m.work
        project.ownership = m.ownership ?? project.ownership
        project.planRef = m.planRef ?? project.planRef
        if let seats = m.seatsAdded { project.seatsAdded = seats }
        let before = project.reached
        let at = event.occurredAt.epochMilliseconds
        let late = project.lastAt.map { at < $0 } ?? false
        project.lastAt = max(project.lastAt ?? at, at)
        func record(_ indicator: String, _ amount: Int64) {
            state.indicators.record(
                indicator, district: project.region, amount: amount, on: m.actualDate, facets: project.facets, plans: context.plans,
                subject: project.projectId, cause: event.id, late: late)
        }
        if project.reached.map({ m.milestone > $0 }) ?? true { project.reached = m.milestone }
        if let schedule = m.schedule {
            // In milestone order: dictionary order differs from one process to the next.
            for (milestone, date) in schedule.sorted(by: { $0.key < $1.key }) where project.schedule[milestone] != date {
                project.schedule[milestone] = date
                if !project.hasReached(milestone) {
                    state.deadlines.schedule("yellow|\(milestone.rawValue)|\(date)|\(project.projectId)", at: date.adding(days: 1).startInChina)
                }
            }
        }
        // Reaching a milestone counts once, on the day it was reached, and reaches every earlier one.
        if !(before.map { $0 >= .completed } ?? false) && project.hasReached(.completed) {
            record("projects.completed", 1)
            if let group = Self.completionGroup(project.category) { record(group, 1) }
        }
        if !(before.map { $0 >= .inUse } ?? false) && project.hasReached(.inUse), project.seatsAdded > 0,
            let seats = Self.seatsIndicator(project.category)
        {
            record(seats, project.seatsAdded)
        }
        for milestone in project.overdue.sorted(by: <) {
            let planned = project.schedule[milestone]
            let stillDue = planned.map { $0.adding(days: 1).startInChina <= context.now } ?? false
            guard project.hasReached(milestone) || !stillDue else { continue }
            project.overdue.remove(milestone)
            state.indicators.add(
                "projects.overdue_milestones", kind: .count, district: project.region, numerator: -1, subject: project.projectId,
                cause: event.id)
            let how = project.hasReached(milestone) ? "已于\(m.actualDate)\(Self.chinese(milestone))" : "计划日期已调整"
            if let o = state.alerts.resolve(
                fingerprint: "\(Self.milestoneOverdue.id)/\(project.projectId)/\(milestone.rawValue)", at: event.occurredAt,
                causes: [event.id], summary: "项目\(project.projectId) \(project.name) \(how)")
            {
                out.append(o)
            }
        }
        state.projects[m.projectId] = project
        out += expire(&state, context: context)
        flush(&state, context: context, tick: false, out: &out)
        return out
    }

    public func tick(state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        var out = expire(&state, context: context)
        flush(&state, context: context, tick: true, out: &out)
        return out
    }

    public func explain(_ indicator: String, region: RegionCode, state: State) -> IndicatorExplanation? {
        state.indicators.explain(indicator, region: region)
    }

    private func expire(_ state: inout State, context: HandlerContext) -> [HandlerOutput] {
        let now = context.now
        var out: [HandlerOutput] = []
        for entry in state.deadlines.popDue(now: now) {
            let parts = entry.key.split(separator: "|", maxSplits: 3).map(String.init)
            guard parts.count == 4, var project = state.projects[parts[3]], let milestone = Milestone(rawValue: parts[1]),
                let planned = project.schedule[milestone], planned.description == parts[2], !project.hasReached(milestone)
            else { continue }
            let orange = parts[0] == "orange"
            if !project.overdue.contains(milestone) {
                project.overdue.insert(milestone)
                state.indicators.add(
                    "projects.overdue_milestones", kind: .count, district: project.region, numerator: 1, subject: project.projectId)
                // Orange 30 days (rules.projects.milestone_overdue.deadlines.orange) after the planned day ends.
                let orangeAt = context.due(Self.milestoneOverdue, "orange", from: planned.adding(days: 1).startInChina)
                state.deadlines.schedule("orange|\(parts[1])|\(parts[2])|\(parts[3])", at: orangeAt)
            }
            let days = now.localDate.dayNumber - planned.dayNumber
            if let o = state.alerts.fire(
                AlertBook.Firing(
                    rule: Self.milestoneOverdue.id, subjectKey: "\(project.projectId)/\(milestone.rawValue)",
                    region: project.region,
                    subject: ["projectId": project.projectId, "milestone": milestone.rawValue], level: orange ? .orange : .yellow,
                    summary: "项目\(project.projectId) \(project.name) 计划\(planned)\(Self.chinese(milestone)), 已逾期\(days)天未报告",
                    planRef: project.planRef, at: Timestamp(epochMilliseconds: entry.due), causes: []))
            {
                out.append(o)
            }
            state.projects[parts[3]] = project
        }
        return out
    }

    /// Publishes and judges; a completion or seats target behind its plan raises
    /// `projects.target_at_risk` (yellow; orange when offTrack, which after the deadline is final).
    private func flush(_ state: inout State, context: HandlerContext, tick: Bool, out: inout [HandlerOutput]) {
        let (updates, changes) = state.indicators.flush(now: context.now, plans: context.plans, manifest: manifest, tick: tick)
        out += updates
        for change in changes {
            guard let target = change.target, target.indicator != "projects.overdue_milestones",
                let spec = manifest.indicator(target.indicator)
            else { continue }
            let u = change.update
            // Per plan: a yearly plan and a three-year plan may judge the same count at once.
            let subjectKey = "\(u.plan ?? "-")/\(change.indicator)/\(change.region.code)"
            let unit = spec.unit ?? ""
            let what = target.text ?? spec.name
            let goal = "目标\(Format.number(target.target.value))\(unit)(\(target.deadline)前)"
            switch change.to {
            case .atRisk?, .offTrack?:
                let how =
                    u.final ? "截止时未完成目标" : change.to == .offTrack ? "严重落后于计划进度" : "落后于计划进度"
                if let o = state.alerts.fire(
                    AlertBook.Firing(
                        rule: Self.targetAtRisk.id, subjectKey: subjectKey, region: change.region,
                        subject: ["plan": u.plan ?? "", "indicator": change.indicator, "region": change.region.code],
                        level: change.to == .offTrack ? .orange : .yellow,
                        summary: "\(change.region.code) \(what): 已完成\(Format.number(u.value))\(unit), \(goal), \(how)",
                        planRef: target.planRef, at: context.now, causes: []))
                {
                    out.append(o)
                }
            default:
                let how = change.to == .met ? "已完成目标" : change.to == nil ? "不再受计划考核" : "已回到计划进度"
                if let o = state.alerts.resolve(
                    fingerprint: "\(Self.targetAtRisk.id)/\(subjectKey)", at: context.now, causes: [],
                    summary: "\(change.region.code) \(what): 已完成\(Format.number(u.value))\(unit), \(how)")
                {
                    out.append(o)
                }
            }
        }
    }
}
