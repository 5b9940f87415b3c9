"""A CLIP-format byte-level BPE: trained on the captions, written as vocab.json / merges.txt, and a tokenizer
that encodes exactly as CLIP's (lower-case, CLIP's split pattern, `</w>` on each word's last unit,
lowest-rank-first merges, BOS ... EOS, padded to 77 with EOS)."""
import collections
import json
import os
import re

BOS, EOS = '<|startoftext|>', '<|endoftext|>'
MAX_LEN = 77
# CLIP's pattern with \p{L} / \p{N} narrowed to what Python's re offers (our captions are ASCII).
PAT = re.compile(r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|[^\s\w]+|_+",
                 re.IGNORECASE)


def bytes_to_unicode():
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


B2U = bytes_to_unicode()


def clean(text):
    return re.sub(r'\s+', ' ', text).strip().lower()


def words_of(text):
    return [''.join(B2U[b] for b in w.encode('utf-8')) for w in PAT.findall(clean(text))]


def merge_pair(units, pair):
    """units with every non-overlapping occurrence of pair (left to right) joined into one unit."""
    out, i = [], 0
    while i < len(units):
        if i < len(units) - 1 and (units[i], units[i + 1]) == pair:
            out.append(units[i] + units[i + 1])
            i += 2
        else:
            out.append(units[i])
            i += 1
    return tuple(out)


def train_bpe(corpus):
    """Greedy BPE over the corpus's words until every word is one token; returns the merge list."""
    counts = collections.Counter(w for t in corpus for w in words_of(t))
    words = {w: tuple(w[:-1]) + (w[-1] + '</w>',) for w in counts}
    merges = []
    while True:
        pairs = collections.Counter()
        for w, units in words.items():
            for a, b in zip(units, units[1:]):
                pairs[(a, b)] += counts[w]
        if not pairs:
            break
        best = max(sorted(pairs), key=lambda p: pairs[p])  # most frequent; ties by sorted order
        merges.append(best)
        for w, units in words.items():
            words[w] = merge_pair(units, best)
    return merges


class ClipTokenizer:
    def __init__(self, vocab, merges):
        self.vocab = vocab
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.cache = {}

    @classmethod
    def from_dir(cls, d):
        with open(os.path.join(d, 'vocab.json'), encoding='utf-8') as f:
            vocab = json.load(f)
        with open(os.path.join(d, 'merges.txt'), encoding='utf-8') as f:
            lines = f.read().split('\n')[1:]
        merges = [tuple(l.split()) for l in lines if l.strip()]
        return cls(vocab, merges)

    def bpe(self, w):
        if w in self.cache:
            return self.cache[w]
        word = tuple(w[:-1]) + (w[-1] + '</w>',)
        while len(word) > 1:
            pairs = set(zip(word, word[1:]))
            best = min(pairs, key=lambda p: self.ranks.get(p, float('inf')))
            if best not in self.ranks:
                break
            word = merge_pair(word, best)
        self.cache[w] = word
        return word

    def encode(self, text):
        ids = [self.vocab[BOS]]
        for w in words_of(text):
            if w == BOS or w == EOS:
                ids.append(self.vocab[w])
            else:
                ids += [self.vocab[u] for u in self.bpe(w)]
        ids = ids[:MAX_LEN - 1] + [self.vocab[EOS]]
        return ids + [self.vocab[EOS]] * (MAX_LEN - len(ids))


def build_vocab(merges):
    units = list(B2U.values())
    toks = units + [u + '</w>' for u in units] + [a + b for a, b in merges] + [BOS, EOS]
    return {t: i for i, t in enumerate(toks)}


def write_tokenizer(out_dir, merges):
    os.makedirs(out_dir, exist_ok=True)
    vocab = build_vocab(merges)
    with open(os.path.join(out_dir, 'vocab.json'), 'w', encoding='utf-8') as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(out_dir, 'merges.txt'), 'w', encoding='utf-8') as f:
        f.write('#version: 0.2\n' + ''.join(f'{a} {b}\n' for a, b in merges))
    cfg = {'add_prefix_space': False, 'bos_token': BOS, 'do_lower_case': True, 'eos_token': EOS,
           'errors': 'replace', 'model_max_length': MAX_LEN, 'pad_token': EOS,
           'tokenizer_class': 'CLIPTokenizer', 'unk_token': EOS}
    with open(os.path.join(out_dir, 'tokenizer_config.json'), 'w') as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(out_dir, 'special_tokens_map.json'), 'w') as f:
        json.dump({'bos_token': BOS, 'eos_token': EOS, 'pad_token': EOS, 'unk_token': EOS}, f, indent=2)
    return ClipTokenizer(vocab, merges)
