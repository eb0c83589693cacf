// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unwind_table.h"

/* DWARF register numbers of x86-64 (System V psABI, figure 3.36) */
#define DWARF_RBP 6
#define DWARF_RSP 7
#define DWARF_RIP 16

/* Pointer encodings (LSB, "DWARF Exception Header Encoding") */
#define DW_EH_PE_absptr 0x00
#define DW_EH_PE_uleb128 0x01
#define DW_EH_PE_udata2 0x02
#define DW_EH_PE_udata4 0x03
#define DW_EH_PE_udata8 0x04
#define DW_EH_PE_signed 0x08
#define DW_EH_PE_sleb128 0x09
#define DW_EH_PE_sdata2 0x0a
#define DW_EH_PE_sdata4 0x0b
#define DW_EH_PE_sdata8 0x0c
#define DW_EH_PE_pcrel 0x10
#define DW_EH_PE_textrel 0x20
#define DW_EH_PE_datarel 0x30
#define DW_EH_PE_indirect 0x80
#define DW_EH_PE_omit 0xff
#define DW_EH_PE_FORMAT_MASK 0x0f
#define DW_EH_PE_APPL_MASK 0x70

/* Call frame instructions (DWARF 4, 6.4.2, and the GNU extensions) */
#define DW_CFA_advance_loc 0x40
#define DW_CFA_offset 0x80
#define DW_CFA_restore 0xc0
#define DW_CFA_nop 0x00
#define DW_CFA_set_loc 0x01
#define DW_CFA_advance_loc1 0x02
#define DW_CFA_advance_loc2 0x03
#define DW_CFA_advance_loc4 0x04
#define DW_CFA_offset_extended 0x05
#define DW_CFA_restore_extended 0x06
#define DW_CFA_undefined 0x07
#define DW_CFA_same_value 0x08
#define DW_CFA_register 0x09
#define DW_CFA_remember_state 0x0a
#define DW_CFA_restore_state 0x0b
#define DW_CFA_def_cfa 0x0c
#define DW_CFA_def_cfa_register 0x0d
#define DW_CFA_def_cfa_offset 0x0e
#define DW_CFA_def_cfa_expression 0x0f
#define DW_CFA_expression 0x10
#define DW_CFA_offset_extended_sf 0x11
#define DW_CFA_def_cfa_sf 0x12
#define DW_CFA_def_cfa_offset_sf 0x13
#define DW_CFA_val_offset 0x14
#define DW_CFA_val_offset_sf 0x15
#define DW_CFA_val_expression 0x16
#define DW_CFA_GNU_args_size 0x2e
#define DW_CFA_GNU_negative_offset_extended 0x2f

/* The DWARF operations of the PLT's CFA expression */
#define DW_OP_and 0x1a
#define DW_OP_plus 0x22
#define DW_OP_shl 0x24
#define DW_OP_ge 0x2a
#define DW_OP_lit0 0x30
#define DW_OP_lit3 0x33
#define DW_OP_lit15 0x3f
#define DW_OP_lit31 0x4f
#define DW_OP_breg7 0x77
#define DW_OP_breg16 0x80

/* Compilers nest remember_state at most a few deep; more is taken for
 * garbage rather than given memory. */
#define MAX_REMEMBERED_STATES 16

/* Reads through a byte range. The first read past the end marks the
 * cursor bad and moves it to the end, so loops over it stop and later
 * reads return 0; callers test bad once the values matter. */
struct cursor {
	const __u8 *p;
	const __u8 *end;
	bool bad;
};

static void cursor_fail(struct cursor *c)
{
	c->bad = true;
	c->p = c->end;
}

static bool cursor_take(struct cursor *c, size_t n, const __u8 **at)
{
	if (c->bad || (size_t)(c->end - c->p) < n) {
		cursor_fail(c);
		return false;
	}
	*at = c->p;
	c->p += n;
	return true;
}

/* Little-endian, whatever the host: .eh_frame of x86-64 is. */
static __u64 read_le(struct cursor *c, size_t n)
{
	const __u8 *at;
	__u64 v = 0;

	if (!cursor_take(c, n, &at))
		return 0;
	while (n--)
		v = v << 8 | at[n];
	return v;
}

static __u8 read_u8(struct cursor *c)
{
	return read_le(c, 1);
}

/* LEB128: 7 bits a byte, least significant first, while the top bit is
 * set. shift is left just past the last byte's bits: 64 or more when they
 * reach the top of the value (nothing left to sign-extend). */
static __u64 read_leb(struct cursor *c, unsigned int *shift)
{
	__u64 v = 0;
	__u8 b;

	*shift = 0;
	do {
		if (*shift >= 64) {
			cursor_fail(c);
			return 0;
		}
		b = read_u8(c);
		v |= (__u64)(b & 0x7f) << *shift;
		*shift += 7;
	} while ((b & 0x80) && !c->bad);
	return v;
}

static __u64 read_uleb(struct cursor *c)
{
	unsigned int shift;

	return read_leb(c, &shift);
}

/* Sign-extended from bit 6 of the last byte, which is bit shift - 1. */
static __s64 read_sleb(struct cursor *c)
{
	unsigned int shift;
	__u64 v = read_leb(c, &shift);

	if (shift < 64 && (v >> (shift - 1) & 1))
		v |= ~0ULL << shift;
	return (__s64)v;
}

/* Skips n bytes, and fails if they are not there. */
static void skip(struct cursor *c, __u64 n)
{
	const __u8 *at;

	if (n > SIZE_MAX)
		cursor_fail(c);
	else
		cursor_take(c, n, &at);
}

/* The value of an encoded pointer's format bits, before any base is added */
static __u64 read_pointer_value(struct cursor *c, __u8 format)
{
	switch (format) {
	case DW_EH_PE_absptr:
	case DW_EH_PE_udata8:
	case DW_EH_PE_signed:
	case DW_EH_PE_sdata8:
		return read_le(c, 8);
	case DW_EH_PE_uleb128:
		return read_uleb(c);
	case DW_EH_PE_sleb128:
		return read_sleb(c);
	case DW_EH_PE_udata2:
		return read_le(c, 2);
	case DW_EH_PE_sdata2:
		return (__s64)(__s16)read_le(c, 2);
	case DW_EH_PE_udata4:
		return read_le(c, 4);
	case DW_EH_PE_sdata4:
		return (__s64)(__s32)read_le(c, 4);
	default:
		cursor_fail(c);
		return 0;
	}
}

/* Reads a pointer in encoding enc at the cursor, in the section sec.
 * allow_indirect: the value is the address of the pointer, which only the
 * personality routine may use (and it is skipped). */
static __u64 read_pointer(struct cursor *c, __u8 enc, const struct eh_frame_section *sec,
			  bool allow_indirect)
{
	__u64 field = sec->vaddr + (__u64)(c->p - (const __u8 *)sec->data);
	__u64 v, base;

	if (enc == DW_EH_PE_omit || ((enc & DW_EH_PE_indirect) && !allow_indirect)) {
		cursor_fail(c);
		return 0;
	}
	v = read_pointer_value(c, enc & DW_EH_PE_FORMAT_MASK);
	switch (enc & DW_EH_PE_APPL_MASK) {
	case 0:
		base = 0;
		break;
	case DW_EH_PE_pcrel:
		base = field;
		break;
	case DW_EH_PE_textrel:
		base = sec->text_vaddr;
		break;
	case DW_EH_PE_datarel:
		base = sec->got_vaddr;
		break;
	default: /* funcrel and aligned have no meaning in a CIE or FDE */
		cursor_fail(c);
		return 0;
	}
	return v + base;
}

/* One CIE or FDE: [start, end) in the section, and its id field (0 for a
 * CIE, else the distance back from id_off to its CIE). */
struct cfi_entry {
	size_t start;
	size_t id_off;
	size_t end;
	__u64 id;
	struct cursor body; /* after the id */
};

/* 1 and *e filled, 0 at the zero terminator or the end of the section,
 * or -EINVAL. */
static int read_entry(const struct eh_frame_section *sec, size_t off, struct cfi_entry *e)
{
	const __u8 *base = sec->data;
	struct cursor c = { base + off, base + sec->size, false };
	size_t id_size = 4;
	__u64 len;

	if (off == sec->size)
		return 0;
	len = read_le(&c, 4);
	if (c.bad)
		return -EINVAL;
	if (len == 0)
		return 0;
	if (len == 0xffffffff) {
		len = read_le(&c, 8);
		id_size = 8;
	} else if (len >= 0xfffffff0) {
		return -EINVAL; /* reserved by DWARF */
	}
	if (c.bad || len < id_size || len > (__u64)(c.end - c.p))
		return -EINVAL;
	e->start = off;
	e->id_off = c.p - base;
	e->end = e->id_off + len;
	c.end = base + e->end;
	e->id = read_le(&c, id_size);
	e->body = c;
	return 1;
}

struct cie {
	size_t start; /* its entry's offset in the section: FDEs point at it */
	__u64 code_align;
	__s64 data_align;
	__u64 ra_reg;
	__u8 fde_enc; /* of pc_begin, pc_range and DW_CFA_set_loc */
	bool has_aug_len; /* 'z': every FDE has an augmentation data length */
	struct cursor insns; /* the initial instructions */
};

static int parse_cie(const struct eh_frame_section *sec, const struct cfi_entry *e, struct cie *cie)
{
	struct cursor c = e->body, aug;
	const char *aug_str;
	__u8 version;
	__u64 aug_len;
	size_t i;

	memset(cie, 0, sizeof(*cie));
	cie->start = e->start;
	cie->fde_enc = DW_EH_PE_absptr;
	version = read_u8(&c);
	if (version != 1 && version != 3 && version != 4)
		return -EINVAL;
	aug_str = (const char *)c.p;
	if (!memchr(c.p, '\0', c.end - c.p))
		return -EINVAL;
	skip(&c, strlen(aug_str) + 1);
	/* Without 'z' the augmentation data cannot be skipped: only an
	 * empty string is understood. */
	if (aug_str[0] && aug_str[0] != 'z')
		return -EINVAL;
	if (version == 4) {
		__u8 address_size = read_u8(&c), segment_size = read_u8(&c);

		if (address_size != 8 || segment_size != 0)
			return -EINVAL;
	}
	cie->code_align = read_uleb(&c);
	cie->data_align = read_sleb(&c);
	cie->ra_reg = version == 1 ? read_u8(&c) : read_uleb(&c);
	if (aug_str[0] == 'z') {
		cie->has_aug_len = true;
		aug_len = read_uleb(&c);
		if (c.bad || aug_len > (__u64)(c.end - c.p))
			return -EINVAL;
		aug = (struct cursor){ c.p, c.p + aug_len, false };
		c.p += aug_len;
		for (i = 1; aug_str[i]; i++) {
			__u8 enc;

			if (aug_str[i] == 'R') {
				cie->fde_enc = read_u8(&aug);
			} else if (aug_str[i] == 'P') {
				enc = read_u8(&aug);
				read_pointer(&aug, enc, sec, true);
			} else if (aug_str[i] == 'L') {
				enc = read_u8(&aug);
				if (enc != DW_EH_PE_omit &&
				    (enc & DW_EH_PE_FORMAT_MASK) > DW_EH_PE_sdata8)
					return -EINVAL;
			} else if (aug_str[i] != 'S') {
				/* Unknown: its data cannot be parsed, but 'z' says
				 * where it ends (as libgcc does). */
				break;
			}
		}
		if (aug.bad)
			return -EINVAL;
	}
	if (c.bad)
		return -EINVAL;
	cie->insns = c;
	return 0;
}

/* An FDE as found by the first pass, compiled by the second. */
struct fde {
	__u64 begin, end;
	size_t cie; /* index in the CIE list */
	size_t start; /* its entry's offset: ties between equal begins */
	struct cursor insns;
};

/* What pass one collects: every CIE in section order (so their starts
 * are sorted, and an FDE's CIE is found by binary search) and every FDE. */
struct cfi_index {
	struct cie *cies;
	size_t ncies, cie_cap;
	struct fde *fdes;
	size_t nfdes, fde_cap;
};

/* Room for element n of the array v of *cap elements: the array, moved
 * maybe, or NULL with v left as it was. */
static void *reserve(void *v, size_t *cap, size_t n, size_t size)
{
	size_t new_cap;
	void *p;

	if (n < *cap)
		return v;
	new_cap = *cap ? *cap * 2 : 64;
	p = realloc(v, new_cap * size);
	if (p)
		*cap = new_cap;
	return p;
}

static const struct cie *find_cie(const struct cfi_index *ix, size_t start, size_t *idx)
{
	size_t lo = 0, hi = ix->ncies;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ix->cies[mid].start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == ix->ncies || ix->cies[lo].start != start)
		return NULL;
	*idx = lo;
	return &ix->cies[lo];
}

static int parse_fde(const struct eh_frame_section *sec, const struct cfi_entry *e,
		     struct cfi_index *ix)
{
	struct cursor c = e->body;
	const struct cie *cie;
	struct fde *f;
	__u64 begin, range, aug_len;
	size_t cie_idx;
	void *p;

	/* The CIE pointer counts back from its own field, to the start of
	 * a CIE already seen. */
	if (e->id > e->id_off)
		return -EINVAL;
	cie = find_cie(ix, e->id_off - e->id, &cie_idx);
	if (!cie)
		return -EINVAL;
	begin = read_pointer(&c, cie->fde_enc, sec, false);
	range = read_pointer_value(&c, cie->fde_enc & DW_EH_PE_FORMAT_MASK);
	if (cie->has_aug_len) {
		aug_len = read_uleb(&c);
		skip(&c, aug_len);
	}
	if (c.bad || begin + range < begin)
		return -EINVAL;
	if (!range)
		return 0;
	/* The end gets a row too (the gap after the function). */
	if (begin + range > UINT32_MAX)
		return -E2BIG;
	p = reserve(ix->fdes, &ix->fde_cap, ix->nfdes, sizeof(*ix->fdes));
	if (!p)
		return -ENOMEM;
	ix->fdes = p;
	f = &ix->fdes[ix->nfdes++];
	f->begin = begin;
	f->end = begin + range;
	f->cie = cie_idx;
	f->start = e->start;
	f->insns = c;
	return 0;
}

static int index_section(const struct eh_frame_section *sec, struct cfi_index *ix)
{
	struct cfi_entry e;
	size_t off = 0;
	void *p;
	int err;

	while ((err = read_entry(sec, off, &e)) > 0) {
		if (e.id == 0) {
			p = reserve(ix->cies, &ix->cie_cap, ix->ncies, sizeof(*ix->cies));
			if (!p)
				return -ENOMEM;
			ix->cies = p;
			err = parse_cie(sec, &e, &ix->cies[ix->ncies]);
			if (!err)
				ix->ncies++;
		} else {
			err = parse_fde(sec, &e, ix);
		}
		if (err)
			return err;
		off = e.end;
	}
	return err;
}

/* How one register's value in the caller is found */
enum reg_rule {
	RULE_SAME, /* unchanged; also the rule of a register no rule names */
	RULE_UNDEFINED,
	RULE_OFFSET, /* saved at CFA + offset */
	RULE_OTHER, /* in another register, or by an expression: not representable */
};

struct reg_state {
	enum reg_rule rule;
	__s64 offset;
};

enum cfa_rule {
	CFA_REG_OFFSET, /* cfa_reg + cfa_offset */
	CFA_PLT, /* the PLT expression, with cfa_offset and plt_threshold */
	CFA_EXPRESSION, /* any other expression */
};

/* The rules that matter here at one location: the CFA, rbp, and the
 * return address. */
struct frame_rules {
	enum cfa_rule cfa;
	__u64 cfa_reg;
	__s64 cfa_offset;
	__u8 plt_threshold;
	struct reg_state rbp;
	struct reg_state ra;
};

/* Rows as they are compiled */
struct row_vec {
	struct weft_unwind_row *rows;
	size_t count, cap;
};

/* Executes CFA instructions. While an FDE runs, rows for [begin, end)
 * go to out; while its CIE runs, out is NULL and locations are illegal. */
struct cfa_machine {
	const struct eh_frame_section *sec;
	const struct cie *cie;
	struct frame_rules now;
	struct frame_rules initial; /* after the CIE: DW_CFA_restore's target */
	struct frame_rules remembered[MAX_REMEMBERED_STATES];
	size_t depth;
	__u64 loc, end;
	struct row_vec *out;
	size_t fde_first_row; /* the FDE's rows start here in out */
};

static bool same_rule(const struct weft_unwind_row *a, const struct weft_unwind_row *b)
{
	return a->cfa_type == b->cfa_type && a->cfa_offset == b->cfa_offset &&
	       a->rbp_offset8 == b->rbp_offset8;
}

/* Appends a row at pc, unless the previous row has the same rule. A row
 * that the FDE emitted at the same pc is replaced: only the last rule at
 * a location is in force there. */
static int emit_row(struct row_vec *v, size_t first_own, const struct weft_unwind_row *row)
{
	void *p;

	if (v->count > first_own && v->rows[v->count - 1].pc == row->pc)
		v->count--;
	if (v->count && same_rule(&v->rows[v->count - 1], row))
		return 0;
	p = reserve(v->rows, &v->cap, v->count, sizeof(*v->rows));
	if (!p)
		return -ENOMEM;
	v->rows = p;
	v->rows[v->count++] = *row;
	return 0;
}

static __s8 rbp_offset8(const struct reg_state *rbp)
{
	if (rbp->rule == RULE_SAME)
		return WEFT_RBP_SAME;
	/* CFA + 0 is the caller's own frame, never a save slot, and would
	 * read as WEFT_RBP_SAME. */
	if (rbp->rule == RULE_OFFSET && rbp->offset % 8 == 0 && rbp->offset != 0 &&
	    rbp->offset / 8 >= -127 && rbp->offset / 8 <= 127)
		return rbp->offset / 8;
	return WEFT_RBP_UNKNOWN;
}

static struct weft_unwind_row compile_row(const struct frame_rules *f, __u32 pc)
{
	struct weft_unwind_row row = { .pc = pc, .cfa_type = WEFT_CFA_UNKNOWN };
	bool offset_fits = f->cfa_offset >= INT16_MIN && f->cfa_offset <= INT16_MAX;

	if (f->ra.rule == RULE_UNDEFINED) {
		row.cfa_type = WEFT_CFA_END;
		return row;
	}
	if (f->ra.rule != RULE_OFFSET || f->ra.offset != -8 || !offset_fits)
		return row;
	if (f->cfa == CFA_PLT) {
		if (f->rbp.rule != RULE_SAME)
			return row;
		row.cfa_type = WEFT_CFA_PLT;
		row.cfa_offset = f->cfa_offset;
		row.rbp_offset8 = f->plt_threshold;
		return row;
	}
	if (f->cfa != CFA_REG_OFFSET || (f->cfa_reg != DWARF_RSP && f->cfa_reg != DWARF_RBP))
		return row;
	row.cfa_type = f->cfa_reg == DWARF_RSP ? WEFT_CFA_RSP : WEFT_CFA_RBP;
	row.cfa_offset = f->cfa_offset;
	row.rbp_offset8 = rbp_offset8(&f->rbp);
	return row;
}

/* The rule now in force covers loc until the next location. */
static int emit_current(struct cfa_machine *m)
{
	struct weft_unwind_row row;

	if (m->loc >= m->end)
		return 0;
	row = compile_row(&m->now, m->loc);
	return emit_row(m->out, m->fde_first_row, &row);
}

static int advance(struct cfa_machine *m, __u64 delta)
{
	int err;

	if (!m->out)
		return -EINVAL; /* a CIE has no location */
	err = emit_current(m);
	if (err)
		return err;
	/* Past the end nothing is emitted: stop there rather than wrap. */
	if (__builtin_mul_overflow(delta, m->cie->code_align, &delta) || delta > m->end - m->loc)
		m->loc = m->end;
	else
		m->loc += delta;
	return 0;
}

/* Recognizes the expression binutils writes for lazy PLT entries: the CFA
 * is rsp + N, and 8 more once the entry has pushed its index, at
 * (rip & 15) >= K. */
static bool parse_plt_expression(struct cursor expr, __s64 *offset, __u8 *threshold)
{
	__u8 lit;

	if (read_u8(&expr) != DW_OP_breg7)
		return false;
	*offset = read_sleb(&expr);
	if (read_u8(&expr) != DW_OP_breg16 || read_sleb(&expr) != 0 ||
	    read_u8(&expr) != DW_OP_lit15 || read_u8(&expr) != DW_OP_and)
		return false;
	lit = read_u8(&expr);
	if (lit < DW_OP_lit0 || lit > DW_OP_lit31)
		return false;
	*threshold = lit - DW_OP_lit0;
	if (read_u8(&expr) != DW_OP_ge || read_u8(&expr) != DW_OP_lit3 ||
	    read_u8(&expr) != DW_OP_shl || read_u8(&expr) != DW_OP_plus)
		return false;
	return !expr.bad && expr.p == expr.end;
}

/* A DWARF expression block: its length, then its bytes. */
static struct cursor read_block(struct cursor *c)
{
	__u64 len = read_uleb(c);
	struct cursor block = { c->p, c->p, false };

	skip(c, len);
	if (!c->bad)
		block.end = block.p + len;
	return block;
}

/* Gives register reg the rule r, if it is one of those kept. */
static void set_reg(struct cfa_machine *m, __u64 reg, enum reg_rule rule, __s64 offset)
{
	struct reg_state s = { rule, rule == RULE_OFFSET ? offset : 0 };

	if (reg == DWARF_RBP)
		m->now.rbp = s;
	if (reg == m->cie->ra_reg)
		m->now.ra = s;
}

static void restore_reg(struct cfa_machine *m, __u64 reg)
{
	if (reg == DWARF_RBP)
		m->now.rbp = m->initial.rbp;
	if (reg == m->cie->ra_reg)
		m->now.ra = m->initial.ra;
}

/* Offsets times the data alignment factor wrap on garbage rather than
 * overflow (undefined); a wrapped value is simply not representable. */
static __s64 factored(__s64 value, __s64 factor)
{
	return (__s64)((__u64)value * (__u64)factor);
}

static __s64 negated(__s64 value)
{
	return (__s64)(0 - (__u64)value);
}

static int run_instructions(struct cfa_machine *m, struct cursor c)
{
	const __s64 data_align = m->cie->data_align;
	struct cursor block;
	__u64 reg, value;
	__s64 offset;
	int err = 0;

	while (c.p < c.end && !err) {
		__u8 op = read_u8(&c), low = op & 0x3f;

		switch (op & 0xc0) {
		case DW_CFA_advance_loc:
			err = advance(m, low);
			continue;
		case DW_CFA_offset:
			set_reg(m, low, RULE_OFFSET, factored(read_uleb(&c), data_align));
			continue;
		case DW_CFA_restore:
			restore_reg(m, low);
			continue;
		}
		switch (op) {
		case DW_CFA_nop:
			break;
		case DW_CFA_set_loc:
			value = read_pointer(&c, m->cie->fde_enc, m->sec, false);
			if (c.bad || !m->out || value < m->loc)
				return -EINVAL;
			err = advance(m, 0);
			m->loc = value < m->end ? value : m->end;
			break;
		case DW_CFA_advance_loc1:
			err = advance(m, read_le(&c, 1));
			break;
		case DW_CFA_advance_loc2:
			err = advance(m, read_le(&c, 2));
			break;
		case DW_CFA_advance_loc4:
			err = advance(m, read_le(&c, 4));
			break;
		case DW_CFA_offset_extended:
			reg = read_uleb(&c);
			set_reg(m, reg, RULE_OFFSET, factored(read_uleb(&c), data_align));
			break;
		case DW_CFA_offset_extended_sf:
			reg = read_uleb(&c);
			set_reg(m, reg, RULE_OFFSET, factored(read_sleb(&c), data_align));
			break;
		case DW_CFA_GNU_negative_offset_extended:
			reg = read_uleb(&c);
			set_reg(m, reg, RULE_OFFSET, negated(factored(read_uleb(&c), data_align)));
			break;
		case DW_CFA_restore_extended:
			restore_reg(m, read_uleb(&c));
			break;
		case DW_CFA_undefined:
			set_reg(m, read_uleb(&c), RULE_UNDEFINED, 0);
			break;
		case DW_CFA_same_value:
			set_reg(m, read_uleb(&c), RULE_SAME, 0);
			break;
		case DW_CFA_register:
			reg = read_uleb(&c);
			read_uleb(&c);
			set_reg(m, reg, RULE_OTHER, 0);
			break;
		case DW_CFA_val_offset:
		case DW_CFA_val_offset_sf:
			reg = read_uleb(&c);
			if (op == DW_CFA_val_offset)
				read_uleb(&c);
			else
				read_sleb(&c);
			set_reg(m, reg, RULE_OTHER, 0);
			break;
		case DW_CFA_expression:
		case DW_CFA_val_expression:
			reg = read_uleb(&c);
			read_block(&c);
			set_reg(m, reg, RULE_OTHER, 0);
			break;
		case DW_CFA_remember_state:
			if (m->depth == MAX_REMEMBERED_STATES)
				return -EINVAL;
			m->remembered[m->depth++] = m->now;
			break;
		case DW_CFA_restore_state:
			if (!m->depth)
				return -EINVAL;
			m->now = m->remembered[--m->depth];
			break;
		case DW_CFA_def_cfa:
		case DW_CFA_def_cfa_sf:
			m->now.cfa = CFA_REG_OFFSET;
			m->now.cfa_reg = read_uleb(&c);
			m->now.cfa_offset = op == DW_CFA_def_cfa ?
						    (__s64)read_uleb(&c) :
						    factored(read_sleb(&c), data_align);
			break;
		case DW_CFA_def_cfa_register:
			/* Keeps the offset, whatever the rule was (as libgcc). */
			m->now.cfa = CFA_REG_OFFSET;
			m->now.cfa_reg = read_uleb(&c);
			break;
		case DW_CFA_def_cfa_offset:
			m->now.cfa_offset = read_uleb(&c);
			break;
		case DW_CFA_def_cfa_offset_sf:
			m->now.cfa_offset = factored(read_sleb(&c), data_align);
			break;
		case DW_CFA_def_cfa_expression:
			block = read_block(&c);
			if (c.bad)
				return -EINVAL;
			if (parse_plt_expression(block, &offset, &m->now.plt_threshold)) {
				m->now.cfa = CFA_PLT;
				m->now.cfa_offset = offset;
			} else {
				m->now.cfa = CFA_EXPRESSION;
			}
			break;
		case DW_CFA_GNU_args_size:
			read_uleb(&c);
			break;
		default:
			return -EINVAL;
		}
	}
	if (c.bad)
		return -EINVAL;
	return err;
}

static int compile_fde(const struct eh_frame_section *sec, const struct cie *cie,
		       const struct fde *f, struct row_vec *out)
{
	struct cfa_machine m = {
		.sec = sec,
		.cie = cie,
		.now = { .cfa = CFA_REG_OFFSET },
		.loc = f->begin,
		.end = f->end,
	};
	int err;

	m.initial = m.now;
	err = run_instructions(&m, cie->insns);
	if (err)
		return err;
	m.initial = m.now;
	m.out = out;
	m.fde_first_row = out->count;
	err = run_instructions(&m, f->insns);
	if (!err)
		err = emit_current(&m);
	return err;
}

static int fde_cmp(const void *a, const void *b)
{
	const struct fde *x = a, *y = b;

	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int compile_rows(const struct eh_frame_section *sec, struct cfi_index *ix,
			struct row_vec *out)
{
	const struct weft_unwind_row gap_template = { .cfa_type = WEFT_CFA_GAP };
	struct weft_unwind_row gap;
	__u64 kept_end = 0;
	size_t i;
	int err;

	if (!ix->nfdes)
		return 0;
	qsort(ix->fdes, ix->nfdes, sizeof(*ix->fdes), fde_cmp);
	for (i = 0; i < ix->nfdes; i++) {
		const struct fde *f = &ix->fdes[i];

		if (i && f->begin < kept_end)
			continue; /* overlaps the FDE kept before it */
		if (i && f->begin > kept_end) {
			gap = gap_template;
			gap.pc = kept_end;
			err = emit_row(out, out->count, &gap);
			if (err)
				return err;
		}
		err = compile_fde(sec, &ix->cies[f->cie], f, out);
		if (err)
			return err;
		kept_end = f->end;
	}
	gap = gap_template;
	gap.pc = kept_end;
	return emit_row(out, out->count, &gap);
}

int unwind_table__from_eh_frame(const struct eh_frame_section *sec, struct unwind_table *out)
{
	struct cfi_index ix = {};
	struct row_vec rows = {};
	int err;

	out->rows = NULL;
	out->count = 0;
	if (!sec->data && sec->size)
		return -EINVAL;
	err = index_section(sec, &ix);
	if (!err)
		err = compile_rows(sec, &ix, &rows);
	free(ix.cies);
	free(ix.fdes);
	if (err) {
		free(rows.rows);
		return err;
	}
	out->rows = rows.rows;
	out->count = rows.count;
	return 0;
}

static const char *section_name(Elf *elf, size_t shstrndx, const GElf_Shdr *sh)
{
	const char *name = elf_strptr(elf, shstrndx, sh->sh_name);

	return name ? name : "";
}

int unwind_table__from_elf(Elf *elf, struct unwind_table *out)
{
	struct eh_frame_section sec = {};
	Elf_Scn *scn = NULL, *eh_frame = NULL;
	GElf_Shdr sh, eh_sh = {};
	GElf_Ehdr ehdr;
	Elf_Data *data;
	size_t shstrndx;

	out->rows = NULL;
	out->count = 0;
	if (!gelf_getehdr(elf, &ehdr) || ehdr.e_ident[EI_CLASS] != ELFCLASS64 ||
	    ehdr.e_machine != EM_X86_64 || elf_getshdrstrndx(elf, &shstrndx))
		return -EINVAL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			return -EINVAL;
		name = section_name(elf, shstrndx, &sh);
		if (!strcmp(name, ".eh_frame")) {
			eh_frame = scn;
			eh_sh = sh;
		} else if (!strcmp(name, ".text")) {
			sec.text_vaddr = sh.sh_addr;
		} else if (!strcmp(name, ".got")) {
			sec.got_vaddr = sh.sh_addr;
		}
	}
	if (!eh_frame || eh_sh.sh_type == SHT_NOBITS)
		return -ENOENT;
	data = elf_getdata(eh_frame, NULL);
	if (!data)
		return -EINVAL;
	if (!data->d_buf || !data->d_size)
		return -ENOENT;
	sec.data = data->d_buf;
	sec.size = data->d_size;
	sec.vaddr = eh_sh.sh_addr;
	return unwind_table__from_eh_frame(&sec, out);
}

int unwind_table__from_file(const char *path, struct unwind_table *out)
{
	Elf *elf = NULL;
	int fd, err;

	out->rows = NULL;
	out->count = 0;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		err = -EINVAL;
	else
		err = unwind_table__from_elf(elf, out);
	elf_end(elf);
	close(fd);
	return err;
}

void unwind_table__release(struct unwind_table *t)
{
	if (!t)
		return;
	free(t->rows);
	t->rows = NULL;
	t->count = 0;
}

const struct weft_unwind_row *unwind_table__find(const struct weft_unwind_row *rows, size_t n,
						 __u64 pc)
{
	size_t lo = 0, hi = n;

	/* The first row past pc; the one before it covers pc. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rows[mid].pc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &rows[lo - 1] : NULL;
}

int unwind__step(const struct weft_unwind_row *rows, size_t n, __u64 bias, struct unwind_regs *r,
		 bool leaf, unwind_read_fn read, void *ctx)
{
	const struct weft_unwind_row *row;
	__u64 lookup, cfa, ra, bp;

	if (r->pc < bias)
		return -ENOENT;
	lookup = r->pc - bias;
	if (!leaf) {
		if (!lookup)
			return -ENOENT;
		lookup--;
	}
	if (lookup > UINT32_MAX)
		return -ENOENT;
	row = unwind_table__find(rows, n, lookup);
	if (!row)
		return -ENOENT;
	switch (row->cfa_type) {
	case WEFT_CFA_END:
		return 0;
	case WEFT_CFA_RSP:
		cfa = r->sp + row->cfa_offset;
		break;
	case WEFT_CFA_RBP:
		cfa = r->bp + row->cfa_offset;
		break;
	case WEFT_CFA_PLT:
		cfa = r->sp + row->cfa_offset + ((r->pc & 15) >= (__u64)row->rbp_offset8 ? 8 : 0);
		break;
	default:
		return -ENOENT;
	}
	if (read(ctx, cfa - 8, &ra))
		return -EFAULT;
	if (row->cfa_type == WEFT_CFA_PLT || row->rbp_offset8 == WEFT_RBP_SAME)
		bp = r->bp;
	else if (row->rbp_offset8 == WEFT_RBP_UNKNOWN)
		bp = 0;
	else if (read(ctx, cfa + (__s64)row->rbp_offset8 * 8, &bp))
		return -EFAULT;
	r->pc = ra;
	r->sp = cfa;
	r->bp = bp;
	return 1;
}
