import HandlerKit

/// Capital projects (新建/改扩建/提质改造): completed projects by category, seats added by
/// projects in use, milestones that pass their planned date unreached — found by the clock,
/// not only on events — and the plan's completion targets.
public struct CapitalProjectsHandler: Handler {
    public let plans: PlanSet

    public init(plans: PlanSet = PlanSet()) { self.plans = plans }

    public var name: String { "CapitalProjects" }
    public var eventTypes: [String] { [EventType.projectMilestone] }
    public func makeInitialState() -> State { State() }

    public struct State: Codable, Sendable, Equatable {
        var projects: [String: Project] = [:]
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
        var category: ProjectMilestone.Category
        var schedule: [Milestone: LocalDate] = [:]
        var reached: Milestone?
        var overdue: Set<Milestone> = []
        var seatsAdded: Int64 = 0
        var planRef: String?
        /// The latest event time seen for it (ms): an older event arriving late is a revision.
        var lastAt: Int64?

        func hasReached(_ m: Milestone) -> Bool { reached.map { m <= $0 } ?? false }
    }

    static let day: Int64 = 86_400

    static func chinese(_ m: Milestone) -> String {
        switch m {
        case .approved: "立项"
        case .started: "开工"
        case .toppedOut: "封顶"
        case .completed: "竣工"
        case .inUse: "投用"
        }
    }

    /// `kindergarten` or `school`, the groups the plans count (nil for `other`).
    static func group(_ c: ProjectMilestone.Category) -> String? {
        switch c {
        case .kindergarten: "kindergarten"
        case .other: nil
        default: "school"
        }
    }

    public func handle(_ event: Event, state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        var out = expire(&state, context: context)
        guard case .projectMilestone(let m) = event.payload else { return out }
        var project =
            state.projects[m.projectId]
            ?? Project(projectId: m.projectId, name: m.name, region: event.region, category: m.category)
        project.name = m.name
        project.planRef = m.planRef ?? project.planRef
        if let seats = m.seatsAdded { project.seatsAdded = seats }
        let before = project.reached
        let at = event.occurredAt.epochMilliseconds
        let late = project.lastAt.map { at < $0 } ?? false
        project.lastAt = max(project.lastAt ?? at, at)
        func add(_ indicator: String, _ delta: Int64) {
            state.indicators.add(
                indicator, kind: .count, district: project.region, numerator: delta, subject: project.projectId, cause: event.id, late: late)
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
        // Reaching a milestone counts once, and reaches every earlier one.
        if !(before.map { $0 >= .completed } ?? false) && project.hasReached(.completed) {
            add("projects.completed", 1)
            if let g = Self.group(project.category) { add("projects.completed.\(g)", 1) }
        }
        if !(before.map { $0 >= .inUse } ?? false) && project.hasReached(.inUse) {
            add("projects.seats_added", project.seatsAdded)
        }
        for milestone in project.overdue.sorted(by: <) {
            let planned = project.schedule[milestone]
            let stillDue = planned.map { $0.adding(days: 1).startInChina <= context.now } ?? false
            guard project.hasReached(milestone) || !stillDue else { continue }
            project.overdue.remove(milestone)
            add("projects.overdue_milestones", -1)
            let how = project.hasReached(milestone) ? "已于\(m.actualDate)\(Self.chinese(milestone))" : "计划日期已调整"
            if let o = state.alerts.resolve(
                fingerprint: "projects.milestone_overdue/\(project.projectId)/\(milestone.rawValue)", at: event.occurredAt,
                causes: [event.id], summary: "项目\(project.projectId) \(project.name) \(how)")
            {
                out.append(o)
            }
        }
        state.projects[m.projectId] = project
        out += expire(&state, context: context)
        flush(&state, now: context.now, tick: false, out: &out)
        return out
    }

    public func tick(state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        var out = expire(&state, context: context)
        flush(&state, now: context.now, tick: true, out: &out)
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
                let orangeAt = context.due(
                    "projects.milestone_overdue", "orange", default: RuleDuration(30, .days), from: planned.adding(days: 1).startInChina)
                state.deadlines.schedule("orange|\(parts[1])|\(parts[2])|\(parts[3])", at: orangeAt)
            }
            let days = now.localDate.dayNumber - planned.dayNumber
            if let o = state.alerts.fire(
                AlertBook.Firing(
                    rule: "projects.milestone_overdue", subjectKey: "\(project.projectId)/\(milestone.rawValue)",
                    region: project.region,
                    subject: ["projectId": project.projectId, "milestone": milestone.rawValue], level: orange ? .orange : .yellow,
                    summary: "项目\(project.projectId) \(project.name) 计划\(planned)\(Self.chinese(milestone)), 已逾期\(days)天未报告",
                    planRef: project.planRef ?? "Zibo 2020 §6", at: Timestamp(epochMilliseconds: entry.due), causes: []))
            {
                out.append(o)
            }
            state.projects[parts[3]] = project
        }
        return out
    }

    private func flush(_ state: inout State, now: Timestamp, tick: Bool, out: inout [HandlerOutput]) {
        let (updates, changes) = state.indicators.flush(now: now, plans: plans, tick: tick)
        out += updates
        for change in changes where change.indicator.hasPrefix("projects.completed") {
            let subjectKey = "\(change.indicator)/\(change.region.code)"
            let u = change.update
            let what = change.indicator.hasSuffix("kindergarten") ? "幼儿园" : change.indicator.hasSuffix("school") ? "中小学" : "项目"
            switch change.to {
            case .atRisk?, .offTrack?:
                let target = u.target.map { "目标\(Format.number($0.value))处(\($0.deadline)前)" } ?? ""
                if let o = state.alerts.fire(
                    AlertBook.Firing(
                        rule: "projects.target_at_risk", subjectKey: subjectKey, region: change.region,
                        subject: ["indicator": change.indicator, "region": change.region.code],
                        level: change.to == .offTrack ? .orange : .yellow,
                        summary: "\(change.region.code) 新改扩建\(what)已竣工\(Format.number(u.value))处, \(target), "
                            + (change.to == .offTrack ? "严重落后于计划进度" : "落后于计划进度"),
                        planRef: u.target?.planRef, at: now, causes: []))
                {
                    out.append(o)
                }
            default:
                if let o = state.alerts.resolve(
                    fingerprint: "projects.target_at_risk/\(subjectKey)", at: now, causes: [],
                    summary: "\(change.region.code) 新改扩建\(what)已竣工\(Format.number(u.value))处, 已回到计划进度")
                {
                    out.append(o)
                }
            }
        }
    }
}
