/// The indicators of DOMAIN.md that the built-in handlers publish.
public enum IndicatorCatalog {
    /// Indicator ids with whether their value is a ratio (true) or a count.
    public static let builtIn: [String: Bool] = [
        "preschool.public_share": true,
        "preschool.inclusive_share": true,
        "secondary.vocational_share": true,
        "compulsory.oversized_classes": false,
        "compulsory.super_oversized_classes": false,
        "senior.oversized_classes": false,
        "compulsory.open_dropout_cases": false,
        "projects.completed": false,
        "projects.completed.kindergarten": false,
        "projects.completed.school": false,
        "projects.seats_added": false,
        "projects.overdue_milestones": false,
        "safety.open_incidents": false,
        "safety.open_incidents.red": false,
        "safety.open_incidents.orange": false,
        "safety.open_incidents.yellow": false,
        "safety.open_incidents.blue": false,
        "safety.incidents_30d": false,
    ]

    /// The version of each indicator's definition, raised when how it is counted changes (so
    /// that a consumer comparing values across a change can tell). 1 for all built-ins so far.
    public static let definitionVersions: [String: Int64] = [:]

    /// The definition version of `indicator` (1 unless raised).
    public static func definitionVersion(of indicator: String) -> Int64 { definitionVersions[indicator] ?? 1 }
}
