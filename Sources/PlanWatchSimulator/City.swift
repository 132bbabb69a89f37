import PlanWatchModel

/// A city to simulate: its districts by their real division codes.
public struct City: Sendable {
    public var code: RegionCode
    public var name: String
    public var districts: [(code: RegionCode, name: String)]

    /// Zibo (淄博市), the city of the 2020 plan in seeds/004.
    public static let zibo = City(
        code: RegionCode("370300")!, name: "淄博市",
        districts: [
            ("370302", "淄川区"), ("370303", "张店区"), ("370304", "博山区"), ("370305", "临淄区"),
            ("370306", "周村区"), ("370321", "桓台县"), ("370322", "高青县"), ("370323", "沂源县"),
        ].map { (RegionCode($0.0)!, $0.1) })
}
