/// `project.milestone`: a construction project reached a milestone.
public struct ProjectMilestone: Sendable, Equatable, Codable {
    public enum Category: String, Sendable, CaseIterable, Codable {
        case kindergarten, primary, junior, nineYear, senior, vocational, special, other
    }
    public enum Work: String, Sendable, CaseIterable, Codable { case new, expansion, renovation }
    public enum Milestone: String, Sendable, CaseIterable, Codable, Comparable {
        case approved, started, toppedOut, completed, inUse
        public static func < (a: Milestone, b: Milestone) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    public var projectId: String
    public var name: String
    public var category: Category
    public var work: Work
    public var milestone: Milestone
    public var actualDate: LocalDate
    /// Planned dates per milestone; the latest event's schedule wins.
    public var schedule: [Milestone: LocalDate]?
    public var seatsAdded: Int64?
    public var schoolId: String?
    public var planRef: String?
    /// Who will run the school: public unless the project says otherwise (the bureau's
    /// construction projects are public schools; 000 §9 counts 公办 seats).
    public var ownership: Ownership?

    package init(_ r: FieldReader) throws(Rejection) {
        projectId = try r.string("projectId", length: 1...128)
        name = try r.string("name", length: 1...256)
        category = try r.enumeration("category", Category.self)
        work = try r.enumeration("work", Work.self)
        milestone = try r.enumeration("milestone", Milestone.self)
        actualDate = try r.date("actualDate")
        if let s = try r.optionalObject("schedule") {
            var schedule: [Milestone: LocalDate] = [:]
            for member in s.object.members {
                guard let m = Milestone(rawValue: member.key) else {
                    let allowed = Milestone.allCases.map(\.rawValue).joined(separator: ", ")
                    throw Rejection(.schemaViolation, "payload.schedule.\(member.key): not a milestone (\(allowed))")
                }
                if member.value == .null { continue }
                schedule[m] = try s.date(member.key)
            }
            self.schedule = schedule
        }
        seatsAdded = try r.optionalInteger("seatsAdded", in: 0...1_000_000)
        schoolId = try r.optionalString("schoolId", length: 1...128)
        planRef = try r.optionalString("planRef", length: 1...128)
        ownership = try r.optionalEnumeration("ownership", Ownership.self)
    }
}

extension ProjectMilestone.Milestone: CodingKeyRepresentable {}
