//! Realistic Chinese names for synthetic subjects: persons (surname + one or two characters,
//! surnames weighted by frequency so that common full names repeat, as they do in a city) and
//! companies (上海 + trade name + industry + legal form, some with Latin letters).

use super::rng::Rng;

/// Common surnames, most frequent first (the first ~20 cover over half of the population).
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁",
    "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金", "石", "廖", "贾", "夏",
    "韦", "付", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹", "薛", "闫", "段", "雷", "侯",
    "龙", "史", "陶", "黎", "贺", "顾", "毛", "郝", "龚", "邵", "万", "钱", "严", "覃", "武", "戴",
    "欧阳", "司马", "诸葛", "上官",
];

/// Characters common in given names.
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "英", "华", "文", "辉", "建", "国", "玉", "兰", "萍", "红",
    "鹏", "飞", "宇", "浩", "凯", "晨", "婷", "雪", "琳", "佳", "欣", "怡", "思", "梓", "子", "轩",
    "涵", "睿", "博", "俊", "嘉", "瑞", "晓", "春", "海", "东", "志", "新", "慧", "颖", "倩", "斌",
];

/// Characters of trade names (字号).
const TRADE: &[&str] = &[
    "明", "华", "宏", "达", "昌", "盛", "鑫", "源", "泰", "丰", "恒", "锦", "瑞", "浦", "申", "沪",
    "联", "通", "信", "安", "和", "嘉", "新", "兴", "隆", "星", "辰", "云", "海", "天", "鼎", "晟",
    "博", "创", "智", "汇", "金", "宝", "长", "江", "东", "方", "正", "德", "诚", "益", "康", "富",
];

/// Industries (行业) as they appear in registered names.
const INDUSTRY: &[&str] = &[
    "科技",
    "信息技术",
    "网络科技",
    "贸易",
    "国际贸易",
    "建筑工程",
    "建设工程",
    "餐饮管理",
    "物流",
    "实业",
    "投资管理",
    "文化传媒",
    "电子商务",
    "企业管理咨询",
    "物业管理",
    "机械设备",
    "环保科技",
    "生物科技",
    "新材料科技",
    "服饰",
    "食品",
    "汽车服务",
    "装饰工程",
    "广告",
    "软件",
    "智能科技",
];

/// Legal forms.
const FORM: &[&str] = &[
    "有限公司",
    "有限公司",
    "有限公司",
    "股份有限公司",
    "有限责任公司",
];

/// Latin prefixes some trade names carry.
const LATIN: &[&str] = &["ABC", "TCL", "3D", "IT", "K2", "GTX", "E家"];

/// A person's name: surname plus one or two given-name characters.
pub fn person(rng: &mut Rng) -> String {
    // Square the uniform draw: low indices (common surnames) come up far more often.
    let u = rng.below(1 << 20) as f64 / (1 << 20) as f64;
    let surname = SURNAMES[((u * u) * SURNAMES.len() as f64) as usize];
    let mut name = surname.to_string();
    name.push_str(rng.pick::<&str>(GIVEN));
    if rng.chance(0.6) {
        name.push_str(rng.pick::<&str>(GIVEN));
    }
    name
}

/// A company name such as 上海明华信息技术有限公司, sometimes longer, sometimes with Latin letters.
pub fn company(rng: &mut Rng, district: &str) -> String {
    let mut name = String::from("上海");
    if rng.chance(0.15) {
        name.push_str(district.trim_end_matches('区'));
    }
    if rng.chance(0.05) {
        name.push_str(rng.pick::<&str>(LATIN));
    }
    for _ in 0..2 + usize::from(rng.chance(0.2)) {
        name.push_str(rng.pick::<&str>(TRADE));
    }
    name.push_str(rng.pick::<&str>(INDUSTRY));
    if rng.chance(0.05) {
        // A long registered name (20+ characters), as groups and branches have.
        name.push_str(rng.pick::<&str>(INDUSTRY));
        name.push_str("发展");
        name.push_str(rng.pick::<&str>(FORM));
        name.push_str("浦东分公司");
        return name;
    }
    name.push_str(rng.pick::<&str>(FORM));
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_look_like_names() {
        let mut rng = Rng::new(3);
        for _ in 0..1000 {
            let p = person(&mut rng);
            assert!((2..=4).contains(&p.chars().count()), "{p}");
            let c = company(&mut rng, "浦东新区");
            assert!(c.starts_with("上海") && c.contains("公司"), "{c}");
        }
    }
}
