package livegen

import "math/rand/v2"

// weighted is a choice with a relative weight.
type weighted[T any] struct {
	v T
	w int
}

func pickWeighted[T any](rng *rand.Rand, choices []weighted[T]) T {
	total := 0
	for _, c := range choices {
		total += c.w
	}
	x := rng.IntN(total)
	for _, c := range choices {
		if x < c.w {
			return c.v
		}
		x -= c.w
	}
	return choices[len(choices)-1].v
}

var categories = []weighted[string]{
	{"chat", 20}, {"music", 18}, {"gaming", 22}, {"outdoor", 8}, {"food", 10},
	{"dance", 10}, {"sports", 6}, {"education", 6},
}

type giftKind struct {
	name  string
	price int64 // coins per gift; 10 coins are 1 yuan
}

// giftKinds is what viewers send on an ordinary day: mostly hearts and roses.
var giftKinds = []weighted[giftKind]{
	{giftKind{"小心心", 1}, 40}, {giftKind{"玫瑰", 10}, 25}, {giftKind{"荧光棒", 50}, 15},
	{giftKind{"蛋糕", 100}, 10}, {giftKind{"跑车", 1200}, 6}, {giftKind{"火箭", 5000}, 3},
	{giftKind{"嘉年华", 30000}, 1},
}

// stormGiftKinds is a gift storm: the expensive ones.
var stormGiftKinds = []weighted[giftKind]{
	{giftKind{"小心心", 1}, 5}, {giftKind{"玫瑰", 10}, 10}, {giftKind{"荧光棒", 50}, 10},
	{giftKind{"蛋糕", 100}, 15}, {giftKind{"跑车", 1200}, 25}, {giftKind{"火箭", 5000}, 25},
	{giftKind{"嘉年华", 30000}, 10},
}

var zhComments = []string{
	"主播好", "来了来了", "666", "哈哈哈哈哈", "太好听了", "前方高能", "打卡", "爱了爱了",
	"这波操作可以", "主播今天好美", "求歌名", "晚上好", "第一次来，关注了", "这是什么游戏",
	"冲冲冲", "awsl", "笑死我了", "下播了吗", "想去那里旅游", "看饿了", "大家好", "再来一首",
	"主播加油", "这个好难啊", "牛啊牛啊", "刚下班，来晚了", "画面好清楚", "声音有点小",
}

var enComments = []string{
	"hello from Berlin", "nice play!", "what's the song?", "gg", "lol", "first time here",
	"love this", "so cute", "wow", "where is this?", "can you say hi to me?", "let's go!!!",
	"good evening everyone", "that was close", "666", "greetings from São Paulo",
	"turn the volume up pls", "this is my favourite stream", "can't stop laughing",
}

var emojis = []string{"👍", "❤️", "🔥", "😂", "🎉", "👏", "🚀", "😭"}

var stormComments = []string{
	"火箭走起🚀", "感谢老板的嘉年华！", "老板大气", "刷屏了刷屏了", "thanks for the rocket!",
	"神豪来了", "这是什么神仙直播间", "big spender!!!",
}

var spamComments = []string{
	"加群领福利 8866", "点我主页有惊喜", "关注我领红包", "follow4follow", "free coins at example.com",
	"低价涨粉 联系我", "cheap followers, dm me",
}

var agencies = []string{"星光传媒", "蓝鲸娱乐", "Moonlight MCN", "无忧传媒", "独立主播", "独立主播"}

var zhNick = []string{"小鹿", "阿杰", "大白", "糖糖", "星河", "月亮", "老虎", "橘猫", "咸鱼", "奶茶", "阿狸", "小满"}

var enNick = []string{"luna", "kai", "momo", "jay", "nina", "leo", "coco", "max", "yuki", "zoe", "sam", "ivy"}

var anchorPrefix = []string{"小", "阿", "大", "甜甜", "酷酷的", "唱歌的", "爱吃的", "夜猫子", "Miss ", "DJ ", "", ""}

var anchorStem = []string{"鹿", "杰", "白", "鱼", "星星", "月月", "虎子", "橘子", "糖糖", "豆豆", "阿宝", "一一",
	"Luna", "Kai", "Momo", "Jay", "Nina", "Leo", "Coco", "Yuki"}

func anchorName(rng *rand.Rand) string {
	return anchorPrefix[rng.IntN(len(anchorPrefix))] + anchorStem[rng.IntN(len(anchorStem))]
}

var regions = []string{"北京", "上海", "广东", "四川", "浙江", "湖北", "江苏", "山东", "海外"}

var roomTitles = map[string][]string{
	"chat":      {"深夜聊天室", "陪你聊到天亮", "今天也要开心", "Q&A night"},
	"music":     {"今晚一起唱歌", "吉他弹唱", "点歌台开放", "late night lo-fi"},
	"gaming":    {"王者上分", "原神探索", "MC 生存第 40 天", "speedrun attempts"},
	"outdoor":   {"户外徒步 day 3", "夜游西湖", "骑行川藏线", "walking Tokyo at night"},
	"food":      {"深夜放毒", "教你包饺子", "街头小吃探店", "hotpot mukbang"},
	"dance":     {"宅舞练习", "街舞 battle", "跳操打卡", "k-pop covers"},
	"sports":    {"篮球解说", "晨跑 10 公里", "健身房日常", "football watch party"},
	"education": {"考研数学", "一起背单词", "编程入门", "learn Chinese with me"},
}
