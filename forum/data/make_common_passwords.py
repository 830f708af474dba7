"""Regenerate common-passwords.txt: python forum/data/make_common_passwords.py > forum/data/common-passwords.txt

The list is built from well-known patterns (frequent words and first names, keyboard runs, digit runs)
combined with the suffixes people add (digits, years, "!"). It is written by us, not downloaded.
"""
from __future__ import annotations

WORDS = """
password passw0rd passwd secret letmein welcome admin administrator root login master access trustno1
iloveyou loveyou lovely love monkey dragon football baseball basketball soccer hockey golf tennis
sunshine princess shadow superman batman spiderman starwars pokemon minecraft freedom whatever
qwerty qwertz azerty abc abcd abcdef abcdefg abcdefgh abcdefghij abc123 test tester testing
hello hellothere changeme default guest user username temp temporary summer winter autumn spring
monday tuesday friday sunday january february march april june july august september october november
december computer internet secure security system server database oracle microsoft windows linux apple
google facebook twitter samsung nokia company business office manager support service customer partner
vendor enterprise implementation deployment groundwork forum community chocolate cookie cheese pepper
banana orange cherry strawberry blueberry flower garden purple yellow silver golden diamond crystal
rainbow butterfly angel angels jesus christ heaven blessed faith hunter killer tiger eagle falcon
mustang ferrari porsche mercedes corvette harley yamaha charlie michael jennifer jordan thomas robert
daniel matthew andrew joshua anthony william david richard joseph charles christopher jessica ashley
amanda sarah nicole michelle elizabeth melissa stephanie rebecca hannah samantha maggie buster ginger
bailey max rocky buddy lucky pepper molly daisy coffee whiskey beer pizza master123 letmein123
trustme nothing qazwsx qweasd asdfgh asdfghjkl zxcvbn zxcvbnm qwertyuiop 1q2w3e4r 1qaz2wsx zaq12wsx
q1w2e3r4 q1w2e3r4t5 asdf1234 qwer1234 pass pass123 mypassword newpassword yourpassword ourpassword
pa55word p4ssword p@ssword p@ssw0rd passw0rd1 welcome1 football1 iloveyou1 princess1 sunshine1
starwars1 dragon1 baseball1 superman1 batman1 monkey1 shadow1 master1 michael1 jordan23 hockey1
liverpool chelsea arsenal barcelona realmadrid juventus manchester united yankees cowboys steelers
lakers raiders packers dolphins eagles patriots giants rangers marlboro matrix merlin mickey minnie
cocacola pepsi snoopy scooby garfield tigger pooh winnie disney london paris berlin madrid rome
newyork chicago boston dallas houston america canada england france germany italy spain india china
japan russia brazil mexico australia europe welcome2 letmein1 admin1 root123 toor changeme1
""".split()

NAMES = """
james john robert michael william david richard joseph thomas charles mary patricia jennifer linda
elizabeth barbara susan jessica sarah karen nancy lisa betty margaret sandra ashley kimberly emily
donna michelle carol amanda melissa deborah stephanie rebecca laura sharon cynthia kathleen amy
shirley angela helen anna brenda pamela nicole emma samantha katherine christine debra rachel
catherine carolyn janet ruth maria heather diane virginia julie joyce victoria olivia kelly christina
lauren joan evelyn judith megan cheryl andrea hannah martha jacqueline frances gloria ann teresa
kathryn sara janice jean alice madison doris abigail julia judy grace denise amber marilyn beverly
danielle theresa sophia marie diana brittany natalie isabella charlotte rose alexis kayla
mark paul steven andrew kenneth joshua kevin brian george timothy ronald edward jason jeffrey ryan
jacob gary nicholas eric jonathan stephen larry justin scott brandon benjamin samuel gregory
alexander frank patrick raymond jack dennis jerry tyler aaron jose adam nathan henry douglas zachary
peter kyle ethan walter noah jeremy christian keith roger terry gerald harold sean austin carl
arthur lawrence dylan jesse jordan bryan billy joe bruce gabriel logan albert willie alan juan
wayne elijah randy roy vincent ralph eugene russell bobby mason philip louis
""".split()

KEYBOARD = """
qwertyuiop asdfghjkl zxcvbnm qwertyuiopasdfghjkl qazwsxedc qazwsxedcrfv 1qaz2wsx3edc 1qaz2wsx3edc4rfv
zaq1xsw2cde3 qweasdzxc 1q2w3e4r5t 1q2w3e4r5t6y 1q2w3e4r5t6y7u 123qwe 123qweasd 123qweasdzxc qwe123
qwerty123 qwertyui qwertyu asdfgh asdfghjk zxcvbnm123 poiuytrewq lkjhgfdsa mnbvcxz 0987654321
1234567890 12345678901 123456789012 1234567890123 111111111111 000000000000 123123123123
121212121212 abcabcabcabc aaaaaaaaaaaa abcdefghijkl abcdefghijklm 098765432112 987654321098
123456123456 112233445566 qwerqwerqwer asdfasdfasdf zxcvzxcvzxcv 147258369147 159753159753
741852963741 147852369874 1qazxsw23edc 2wsx3edc4rfv qwertyqwerty passwordpassword
""".split()

# Digits, years and punctuation around a listed word are stripped before the look-up (see
# forum.passwords), so "sunshine2024!" is caught through "sunshine"; the list only needs the cores.
STRIP = "0123456789!@#$%^&*()-_=+.,?~ "
PREFIXES = ["my", "ilove", "the", "iam", "super", "big"]


def generate() -> list[str]:
    """Every pattern, lower-cased, sorted and unique."""
    out: set[str] = set(KEYBOARD)
    # The stripped form too, because the checker strips the password the same way.
    out.update(run.strip(STRIP) for run in KEYBOARD)
    for base in WORDS + NAMES:
        out.add(base)
        base = base.strip(STRIP)
        out.add(base)
        out.add(base + base)
        out.update(prefix + base for prefix in PREFIXES)
    for first, second in zip(WORDS, WORDS[1:], strict=False):
        out.add(first + second)
    return sorted(p for p in out if len(p) >= 3)


if __name__ == "__main__":
    print("# Common passwords, generated by make_common_passwords.py; one per line, lower case.")
    print("\n".join(generate()))
